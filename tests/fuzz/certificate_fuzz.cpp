// Fuzz target: what a node reads of a certificate it did not make, from a
// handshake (the binary encoding) or a file (the armour). The same input
// goes to decode_certificate, to TrustStore::check and to dearmor (whose
// bytes are decoded and checked in turn). Properties, trapped when broken:
//  - what decodes is canonical: it passes the body rules, and signing its
//    body again gives the same bytes (up to the issuer and signature);
//  - armour round-trips: armor(dearmor(x)) dearmors to the same bytes;
//  - kValid only for a certificate signed by the trusted CA, within its
//    dates, not revoked.
// The trusted CA is the one of tests/data/cert-vectors.json (seed 01..20),
// so the seed corpus (corpus/certificate/, those vectors in binary and
// armour) reaches the signature check and kValid.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.hpp"
#include "identity/certificate.hpp"
#include "vector_ca.hpp"

namespace {

struct State {
  zeq::Ed25519Keypair ca = zeq::fuzz::vector_ca();
  zeq::TrustStore trust;
  State() {
    trust.add_ca(zeq::CaPublicKey{"fuzz", ca.public_key});
    // A list revoking one key, so check() also walks the revocation step.
    zeq::RevocationList list;
    list.serial = 1;
    list.keys = {zeq::PublicKey{0x42}};
    if (!trust.add_revocation_list(zeq::sign_revocation_list(list, ca).value())) __builtin_trap();
  }
};

void check_certificate(const State& s, const zeq::Certificate& cert) {
  const auto& b = cert.body;
  if (!zeq::validate_certificate_body(b)) __builtin_trap();
  auto again = zeq::sign_certificate(b, s.ca);
  if (!again) __builtin_trap();
  const size_t body_end = cert.encoded.size() - 64 - 32;
  if (again->encoded.size() != cert.encoded.size() ||
      !std::equal(cert.encoded.begin(), cert.encoded.begin() + long(body_end), again->encoded.begin()))
    __builtin_trap();
  for (uint64_t now : {b.not_before_z, b.not_after_z - 1, b.not_after_z, b.not_before_z - 1}) {
    const zeq::CertVerdict v = s.trust.check(cert, now);
    if (v == zeq::CertVerdict::kValid &&
        (!zeq::certificate_signed_by(cert, s.trust.cas()[0]) || now < b.not_before_z || now >= b.not_after_z ||
         b.x25519_public == zeq::PublicKey{0x42}))
      __builtin_trap();
  }
  // Its armour reads back as the same bytes.
  auto round = zeq::dearmor(zeq::ARMOR_CERTIFICATE, zeq::armor(zeq::ARMOR_CERTIFICATE, cert.encoded));
  if (!round || *round != cert.encoded) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const State s;
  zeq::ByteSpan input(data, size);
  if (auto cert = zeq::decode_certificate(input)) check_certificate(s, *cert);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto bytes = zeq::dearmor(zeq::ARMOR_CERTIFICATE, text)) {
    auto again = zeq::dearmor(zeq::ARMOR_CERTIFICATE, zeq::armor(zeq::ARMOR_CERTIFICATE, *bytes));
    if (!again || *again != *bytes) __builtin_trap();
    if (auto cert = zeq::decode_certificate(*bytes)) check_certificate(s, *cert);
  }
  return 0;
}
