#include "mesh/mesh_trust.hpp"

#include <algorithm>

#include "protocol/handshake_extensions.hpp"

namespace zeq {

HandshakeReject reject_for(CertVerdict verdict) {
  switch (verdict) {
    case CertVerdict::kValid: return HandshakeReject::kNone;
    case CertVerdict::kUnknownIssuer: return HandshakeReject::kCertUnknownIssuer;
    case CertVerdict::kBadSignature: return HandshakeReject::kCertBadSignature;
    case CertVerdict::kNotYetValid: return HandshakeReject::kCertNotYetValid;
    case CertVerdict::kExpired: return HandshakeReject::kCertExpired;
    case CertVerdict::kRevoked: return HandshakeReject::kCertRevoked;
    case CertVerdict::kKeyMismatch: return HandshakeReject::kCertKeyMismatch;
  }
  return HandshakeReject::kCertMalformed;
}

Bytes MeshTrust::extensions() const {
  const Certificate* cert = own();
  if (!cert) return {};
  HandshakeExtensions ext;
  ext.certificate = cert->encoded;
  return encode_extensions(ext);
}

MeshTrust::Proof MeshTrust::check_extensions(ByteSpan extension_bytes, const PublicKey& static_key,
                                             const std::string& zid, uint64_t now_z) const {
  Proof proof;
  auto ext = decode_extensions(extension_bytes);
  if (!ext) {
    proof.verdict = HandshakeReject::kCertMalformed;
    return proof;
  }
  if (ext->certificate.empty()) {
    proof.verdict = HandshakeReject::kUnknownPeer;  // extensions, but no certificate among them
    return proof;
  }
  auto cert = decode_certificate(ext->certificate);
  if (!cert) {
    proof.verdict = HandshakeReject::kCertMalformed;
    return proof;
  }
  proof.certificate = std::move(cert.value());
  const CertificateBody& body = proof.certificate->body;
  if (body.x25519_public != static_key || body.zid != zid) {
    proof.verdict = HandshakeReject::kCertKeyMismatch;
    return proof;
  }
  proof.verdict = recheck(*proof.certificate, now_z);
  return proof;
}

bool MeshTrust::key_revoked(const PublicKey& key) const {
  if (!has_anchors()) return false;
  for (const auto& ca : settings_->store.cas())
    if (const RevocationList* list = settings_->store.revocation_list(ca.fingerprint()))
      if (std::find(list->keys.begin(), list->keys.end(), key) != list->keys.end()) return true;
  return false;
}

HandshakeReject MeshTrust::recheck(const Certificate& cert, uint64_t now_z) const {
  if (!has_anchors()) return HandshakeReject::kCertUnknownIssuer;
  return reject_for(settings_->store.check(cert, now_z));
}

}  // namespace zeq
