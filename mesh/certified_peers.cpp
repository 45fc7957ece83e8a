// Peers by certificate (docs/protocol.md, "Handshake extensions"): a peer the
// YAML does not name is admitted when its initiation, fresh by the drift
// check, carries a certificate that chains to a CA this node trusts, is
// valid now, is not revoked, and is for the static key and ZID the
// handshake proved, and no other peer holds that ZID. Its allowed_ips are
// the certificate's, less whatever a YAML peer already holds (the YAML's
// peers are never displaced). A YAML peer that sends a certificate must send
// a good one, must keep sending one, and is narrowed by it. Certificates are
// checked again when the trust changes (reload: a new revocation list) and
// once per Zeqond for expiry; a peer whose certificate fails is cut at once,
// and a certified-only peer without a tunnel for HANDSHAKE_GIVE_UP is
// forgotten.
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

MeshTrust::Proof SessionManager::prove(ByteSpan extensions, const PublicKey& key, const std::string& zid,
                                       uint64_t now_z) const {
  // Without a CA of our own a certificate cannot be judged; the YAML's trust
  // stands alone, as in PROTOCOL.md v1.
  if (!trust_.has_anchors() || extensions.empty()) return {};
  auto proof = trust_.check_extensions(extensions, key, zid, now_z);
  if (proof.verdict == HandshakeReject::kUnknownPeer) return {};  // extensions, but no certificate among them
  return proof;
}

HandshakeReject SessionManager::certificate_required(const Peer& peer, bool proven) const {
  // No CA trusted any more (mesh.ca removed by a reload): the YAML's trust
  // stands alone again, as in PROTOCOL.md v1.
  if (proven || !trust_.has_anchors()) return HandshakeReject::kNone;
  if (peer.requires_certificate) return HandshakeReject::kCertMissing;
  if (trust_.key_revoked(peer.key.public_key)) return HandshakeReject::kCertRevoked;
  return HandshakeReject::kNone;
}

Peer* SessionManager::admit_certified(Certificate cert, const UdpEndpoint& from) {
  const CertificateBody& body = cert.body;
  if (const Peer* holder = plane_.find(body.zid)) {
    reject(HandshakeReject::kKeyMismatch,
           "certificate '" + body.name + "' names " + body.zid + ", which " + holder->label() + " holds with another key");
    return nullptr;
  }
  PeerSettings settings;
  settings.name = plane_.find(body.name) ? std::string() : body.name;  // a name the YAML already uses stays its own
  settings.zid = body.zid;
  settings.public_key = body.x25519_public;
  settings.endpoint = from;
  Peer& peer = plane_.add_peer(settings);
  peer.certified_only = true;
  peer.admitted_us = clock_.mono_us();
  peer.apply_traffic_shape(shape_cover_, shape_padding_);
  adopt_certificate(peer, std::move(cert));
  spdlog::info("peer {}: admitted by its certificate (issuer {}, allowed_ips {}, valid to Zeqond {})", peer.label(),
               to_hex(ByteSpan(peer.certificate->body.issuer.data(), 8)),
               prefixes_text(plane_.routable_prefixes(peer)), peer.certificate->body.not_after_z);
  return &peer;
}

void SessionManager::adopt_certificate(Peer& peer, Certificate cert) {
  peer.requires_certificate = true;
  if (peer.certificate && peer.certificate->encoded == cert.encoded) return;
  peer.certificate = std::move(cert);
  plane_.publish_table();  // its allowed_ips may have changed
  if (routes_changed_) routes_changed_();
}

void SessionManager::apply_trust(std::shared_ptr<const TrustSettings> trust) {
  trust_.set(std::move(trust));
  recheck_certificates(clock_.zeqond());
}

void SessionManager::recheck_certificates(uint64_t now_z) {
  last_certificate_check_z_ = now_z;
  std::vector<std::pair<Peer*, HandshakeReject>> failed;
  for (auto& p : plane_.peers) {
    HandshakeReject r = p->certificate ? trust_.recheck(*p->certificate, now_z)
                                       : certificate_required(*p, false);
    if (r == HandshakeReject::kCertMissing) r = HandshakeReject::kNone;  // a session it has stays until rekey
    if (r != HandshakeReject::kNone) failed.emplace_back(p.get(), r);
  }
  for (auto& [peer, why] : failed) cut_certified(*peer, why);
}

// Between changes of trust only time can fail a certificate that passed (its
// signature and revocation were checked then): a comparison per peer. A
// certified-only peer that has had no tunnel for HANDSHAKE_GIVE_UP (never
// confirmed, or gone) is forgotten, so strangers cannot pile up.
void SessionManager::expire_certificates(uint64_t now_z) {
  if (now_z == last_certificate_check_z_) return;
  last_certificate_check_z_ = now_z;
  const int64_t now = clock_.mono_us();
  std::vector<Peer*> expired, idle;
  for (auto& p : plane_.peers) {
    if (p->certificate && now_z >= p->certificate->body.not_after_z) {
      expired.push_back(p.get());
    } else if (p->certified_only && !p->from_directory && !p->current_owned && !p->next && !p->pending_handshake &&
               now - std::max(p->admitted_us, p->last_rx_us.load(std::memory_order_relaxed)) >
                   zeqonds_to_us(HANDSHAKE_GIVE_UP_Z)) {
      idle.push_back(p.get());
    }
  }
  for (Peer* peer : expired) cut_certified(*peer, HandshakeReject::kCertExpired);
  for (Peer* peer : idle) {
    spdlog::info("peer {}: no tunnel for {} Zeqonds; forgotten until its certificate admits it again", peer->label(),
                 HANDSHAKE_GIVE_UP_Z);
    forget(*peer);
  }
  idle_known_peers(now);
}

void SessionManager::cut_certified(Peer& peer, HandshakeReject why) {
  ++cert_cuts_[size_t(why)];
  spdlog::warn("peer {}: certificate no longer accepted ({}); tunnel cut{}", peer.label(), to_string(why),
               peer.certified_only ? " and peer forgotten" : "; its handshakes are refused until it proves a good one");
  drop_keys(peer);
  sync_tunnel_state(peer, "certificate_rejected");
  if (peer.certified_only) return forget(peer);
  // A YAML peer keeps its entry, but never falls back to its wider YAML
  // allowed_ips: it must present a certificate that passes again.
  peer.requires_certificate = true;
  peer.certificate.reset();
  plane_.publish_table();
}

void SessionManager::forget(Peer& peer, const char* reason) {
  drop_keys(peer);
  sync_tunnel_state(peer, reason);
  peer.certificate.reset();
  plane_.remove_peer(peer);  // the table no longer names it; the Peer goes once no worker can see it
  if (routes_changed_) routes_changed_();
}

}  // namespace zeq
