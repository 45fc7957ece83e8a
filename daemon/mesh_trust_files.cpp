#include "daemon/mesh_trust_files.hpp"

#include <spdlog/spdlog.h>

#include "core/constants.hpp"
#include "loader/certificate_files.hpp"

namespace zeq {

namespace {

constexpr uint64_t WARN_BEFORE_EXPIRY_Z = uint64_t(7 * 86400 / TAU_ZQ);

}  // namespace

Result<std::shared_ptr<const TrustSettings>> load_mesh_trust(const MeshConfig& mesh, const PublicKey& own_key,
                                                            const std::string& own_zid, uint64_t now_z,
                                                            const TrustSettings* previous) {
  if (mesh.ca.empty() && mesh.certificate.empty()) return std::shared_ptr<const TrustSettings>();
  auto trust = std::make_shared<TrustSettings>();
  for (const auto& path : mesh.ca) {
    auto ca = load_ca_public_key(path);
    if (!ca) return Status::error("mesh.ca: " + ca.message());
    trust->store.add_ca(*ca);
  }
  for (const auto& path : mesh.revocations) {
    auto list = load_revocation_list(path);
    if (!list) return Status::error("mesh.revocations: " + list.message());
    const RevocationList* held = trust->store.revocation_list(list->issuer);
    if (held && held->serial >= list->serial) {
      // Two files for one CA: the newer stands, as it would over the wire.
      spdlog::warn("mesh.revocations: {} has serial {}, not newer than serial {} from another file; keeping that one",
                   path, list->serial, held->serial);
      continue;
    }
    if (Status s = trust->store.add_revocation_list(*list); !s)
      return Status::error("mesh.revocations: " + path + ": " + s.message());
  }
  if (previous) {
    for (const auto& ca : previous->store.cas()) {
      const RevocationList* was = previous->store.revocation_list(ca.fingerprint());
      if (!was) continue;
      const RevocationList* now = trust->store.revocation_list(ca.fingerprint());
      if (now && now->serial >= was->serial) continue;
      if (!trust->store.add_revocation_list(*was)) continue;  // that CA is no longer trusted
      spdlog::warn("mesh.revocations: the files hold {} for CA {}; the list in force (serial {}) stays, so nobody is "
                   "un-revoked; install a newer list to change it",
                   now ? "an older list (serial " + std::to_string(now->serial) + ")" : "no list",
                   to_hex(ByteSpan(ca.fingerprint().data(), 8)), was->serial);
    }
  }
  if (!mesh.certificate.empty()) {
    auto cert = load_certificate(mesh.certificate);
    if (!cert) return Status::error("mesh.certificate: " + cert.message());
    const CertificateBody& body = cert->body;
    if (body.x25519_public != own_key || body.zid != own_zid)
      return Status::error("mesh.certificate: " + mesh.certificate + " is for " + body.zid + " (key " +
                           encode_key(body.x25519_public) + "), not this node (" + own_zid +
                           "); have the mesh authority sign this node's key (`zeqvpnctl ca sign`)");
    if (now_z >= body.not_after_z)
      spdlog::warn("mesh.certificate {} expired at Zeqond {}; peers will refuse it: have it renewed (`zeqvpnctl ca sign`)",
                   mesh.certificate, body.not_after_z);
    else if (now_z < body.not_before_z)
      spdlog::warn("mesh.certificate {} is valid only from Zeqond {} (now {}); check the clock", mesh.certificate,
                   body.not_before_z, now_z);
    else if (body.not_after_z - now_z < WARN_BEFORE_EXPIRY_Z)
      spdlog::warn("mesh.certificate {} expires in {} hours; have it renewed (`zeqvpnctl ca sign`)", mesh.certificate,
                   uint64_t(double(body.not_after_z - now_z) * TAU_ZQ / 3600));
    if (!trust->store.empty()) {
      const CertVerdict v = trust->store.check(*cert, now_z);
      if (v != CertVerdict::kValid && v != CertVerdict::kExpired && v != CertVerdict::kNotYetValid)
        spdlog::warn("mesh.certificate {}: {} by the CAs in mesh.ca; peers trusting the same CAs will refuse it",
                     mesh.certificate, cert_verdict_name(v));
    }
    trust->own = std::move(cert.value());
  }
  return std::shared_ptr<const TrustSettings>(std::move(trust));
}

}  // namespace zeq
