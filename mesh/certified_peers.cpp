// Peers by certificate (docs/protocol.md, "Mesh certificates"): a peer the
// YAML does not name is admitted when its initiation carries a certificate
// that chains to a CA this node trusts, is valid now, is not revoked, and is
// for the static key and ZID the handshake proved. Its allowed_ips are the
// certificate's. A YAML peer that sends a certificate must send a good one,
// and the certificate narrows its YAML allowed_ips. Certificates are checked
// again when the trust changes (reload: a new revocation list) and once per
// Zeqond for expiry; a peer whose certificate fails is cut at once.
#include <spdlog/spdlog.h>

#include "mesh/session_manager.hpp"

namespace zeq {

namespace {

std::string prefixes_text(const std::vector<IpPrefix>& prefixes) {
  std::string out;
  for (const auto& p : prefixes) out += (out.empty() ? "" : ", ") + p.to_string();
  return out.empty() ? "none" : out;
}

}  // namespace

Peer* SessionManager::admit_certified(const ReceivedInitiation& init, const UdpEndpoint& from) {
  auto proof = trust_.check_extensions(init.extensions, init.initiator_static, init.payload.zid, clock_.zeqond());
  if (proof.verdict != HandshakeReject::kNone) {
    reject(proof.verdict, "initiation from " + from.to_string() + " claiming " + init.payload.zid +
                              (proof.certificate ? " with certificate '" + proof.certificate->body.name + "'" : ""));
    return nullptr;
  }
  const CertificateBody& body = proof.certificate->body;
  PeerSettings settings;
  settings.name = plane_.find(body.name) ? std::string() : body.name;  // a name the YAML already uses stays its own
  settings.zid = body.zid;
  settings.public_key = body.x25519_public;
  settings.endpoint = from;
  settings.allowed_ips.reserve(body.allowed_ips.size());
  for (const auto& p : body.allowed_ips) settings.allowed_ips.push_back(p.network());
  Peer& peer = plane_.add_peer(settings);
  peer.certificate = std::move(proof.certificate);
  peer.certified_only = true;
  plane_.publish_table();
  if (certified_hook_) certified_hook_(peer, true);
  spdlog::info("peer {}: admitted by its certificate (issuer {}, allowed_ips {}, valid to Zeqond {})", peer.label(),
               to_hex(ByteSpan(body.issuer.data(), 8)), prefixes_text(settings.allowed_ips), body.not_after_z);
  return &peer;
}

bool SessionManager::certificate_passes(Peer& peer, ByteSpan extensions, const char* what) {
  // Without a CA of our own we cannot judge a certificate; the YAML's trust
  // in the peer stands alone, as in PROTOCOL.md v1.
  if (!trust_.has_anchors()) return true;
  auto proof = trust_.check_extensions(extensions, peer.key.public_key, peer.key.zid, clock_.zeqond());
  if (proof.verdict == HandshakeReject::kUnknownPeer) return true;  // extensions without a certificate
  if (proof.verdict != HandshakeReject::kNone) {
    reject(proof.verdict, std::string(what) + " from " + peer.label());
    return false;
  }
  const bool changed = !peer.certificate || peer.certificate->encoded != proof.certificate->encoded;
  peer.certificate = std::move(proof.certificate);
  if (changed) plane_.publish_table();  // its allowed_ips may have narrowed
  return true;
}

void SessionManager::apply_trust(std::shared_ptr<const TrustSettings> trust) {
  trust_.set(std::move(trust));
  recheck_certificates(clock_.zeqond());
}

void SessionManager::recheck_certificates(uint64_t now_z) {
  last_certificate_check_z_ = now_z;
  std::vector<std::pair<Peer*, HandshakeReject>> failed;
  for (auto& p : plane_.peers) {
    if (!p->certificate) continue;
    HandshakeReject r = trust_.recheck(*p->certificate, now_z);
    if (r != HandshakeReject::kNone) failed.emplace_back(p.get(), r);
  }
  for (auto& [peer, why] : failed) cut_certified(*peer, why);
}

// Between changes of trust only time can fail a certificate that passed (its
// signature and revocation were checked then): a comparison per peer.
void SessionManager::expire_certificates(uint64_t now_z) {
  if (now_z == last_certificate_check_z_) return;
  last_certificate_check_z_ = now_z;
  std::vector<Peer*> expired;
  for (auto& p : plane_.peers)
    if (p->certificate && now_z >= p->certificate->body.not_after_z) expired.push_back(p.get());
  for (Peer* peer : expired) cut_certified(*peer, HandshakeReject::kCertExpired);
}

void SessionManager::cut_certified(Peer& peer, HandshakeReject why) {
  ++cert_cuts_[size_t(why)];
  spdlog::warn("peer {}: certificate no longer accepted ({}); tunnel cut{}", peer.label(), to_string(why),
               peer.certified_only ? " and peer forgotten" : "; the YAML still names it, so v1 handshakes without a certificate are accepted");
  drop_keys(peer);
  sync_tunnel_state(peer, "certificate_rejected");
  if (!peer.certified_only) {
    peer.certificate.reset();
    plane_.publish_table();
    return;
  }
  if (certified_hook_) certified_hook_(peer, false);
  plane_.remove_peer(peer);
}

}  // namespace zeq
