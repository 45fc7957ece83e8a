// TrustStore (identity/certificate.hpp): the CAs a node trusts and their
// newest revocation lists, and the one check a certificate passes.
#include <algorithm>

#include "identity/certificate.hpp"

namespace zeq {

const char* cert_verdict_name(CertVerdict v) {
  switch (v) {
    case CertVerdict::kValid: return "valid";
    case CertVerdict::kUnknownIssuer: return "unknown_issuer";
    case CertVerdict::kBadSignature: return "bad_signature";
    case CertVerdict::kNotYetValid: return "not_yet_valid";
    case CertVerdict::kExpired: return "expired";
    case CertVerdict::kRevoked: return "revoked";
    case CertVerdict::kKeyMismatch: return "key_mismatch";
  }
  return "unknown";
}

void TrustStore::add_ca(const CaPublicKey& ca) {
  // The same key twice is one CA (a name change is taken).
  for (auto& held : cas_)
    if (held.key == ca.key) {
      held.name = ca.name;
      return;
    }
  cas_.push_back(ca);
}

Status TrustStore::add_revocation_list(const RevocationList& list) {
  auto ca = std::find_if(cas_.begin(), cas_.end(), [&](const CaPublicKey& c) { return c.fingerprint() == list.issuer; });
  if (ca == cas_.end())
    return Status::error("revocation list of CA " + to_hex(list.issuer) +
                         ": no trusted CA has that fingerprint; add the CA's public key first");
  if (!revocation_list_signed_by(list, *ca))
    return Status::error("revocation list of CA " + ca->name + " (" + to_hex(list.issuer) +
                         "): the signature does not verify; the file was altered or damaged, get it again from the "
                         "CA");
  for (auto& held : lists_) {
    if (held.issuer != list.issuer) continue;
    if (list.serial <= held.serial)
      return Status::error("revocation list of CA " + ca->name + ": serial " + std::to_string(list.serial) +
                           " is not newer than the serial " + std::to_string(held.serial) +
                           " held; the held list stays (lists only move forward)");
    held = list;
    return Status::ok();
  }
  lists_.push_back(list);
  return Status::ok();
}

const RevocationList* TrustStore::revocation_list(const Digest32& issuer) const {
  for (const auto& l : lists_)
    if (l.issuer == issuer) return &l;
  return nullptr;
}

CertVerdict TrustStore::check(const Certificate& cert, uint64_t now_z) const {
  auto ca = std::find_if(cas_.begin(), cas_.end(),
                         [&](const CaPublicKey& c) { return c.fingerprint() == cert.body.issuer; });
  if (ca == cas_.end()) return CertVerdict::kUnknownIssuer;
  if (!certificate_signed_by(cert, *ca)) return CertVerdict::kBadSignature;
  if (now_z < cert.body.not_before_z) return CertVerdict::kNotYetValid;
  if (now_z >= cert.body.not_after_z) return CertVerdict::kExpired;
  if (const RevocationList* list = revocation_list(cert.body.issuer); list && list->revokes(cert))
    return CertVerdict::kRevoked;
  return CertVerdict::kValid;
}

}  // namespace zeq
