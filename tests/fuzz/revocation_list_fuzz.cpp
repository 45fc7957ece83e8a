// Fuzz target: a revocation list as a node reads it from a file (armour) or
// as bytes. The input goes to decode_revocation_list and to dearmor (whose
// bytes are decoded in turn); a decoded list is offered to a trust store.
// Properties, trapped when broken:
//  - what decodes is canonical: its entries are sorted and unique, and
//    signing it again gives the same bytes (up to the issuer and signature);
//  - the store keeps a list only when the trusted CA signed it and its
//    serial is newer, and revokes() agrees with the entries.
// The trusted CA is the one of tests/data/cert-vectors.json (seed 01..20),
// so the seed corpus (corpus/revocation_list/) passes the signature check.
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
  zeq::CaPublicKey ca_public{"fuzz", ca.public_key};
};

void check_list(const State& s, const zeq::RevocationList& list) {
  if (!std::is_sorted(list.certificates.begin(), list.certificates.end()) ||
      std::adjacent_find(list.certificates.begin(), list.certificates.end()) != list.certificates.end() ||
      !std::is_sorted(list.keys.begin(), list.keys.end()) ||
      std::adjacent_find(list.keys.begin(), list.keys.end()) != list.keys.end())
    __builtin_trap();
  auto again = zeq::sign_revocation_list(list, s.ca);
  if (!again) __builtin_trap();
  const size_t end = list.encoded.size() - 64;
  if (again->encoded.size() != list.encoded.size() ||
      !std::equal(list.encoded.begin(), list.encoded.begin() + 4, again->encoded.begin()) ||
      !std::equal(list.encoded.begin() + 36, list.encoded.begin() + long(end), again->encoded.begin() + 36))
    __builtin_trap();
  zeq::TrustStore trust;
  trust.add_ca(s.ca_public);
  const bool signed_by_ca = zeq::revocation_list_signed_by(list, s.ca_public);
  if (bool(trust.add_revocation_list(list)) != signed_by_ca) __builtin_trap();
  if (!signed_by_ca) return;
  if (trust.add_revocation_list(list)) __builtin_trap();  // the same serial again
  // A certificate for a listed key is revoked.
  if (!list.keys.empty()) {
    zeq::Certificate cert;
    cert.body.x25519_public = list.keys.front();
    if (!list.revokes(cert)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const State s;
  if (auto list = zeq::decode_revocation_list(zeq::ByteSpan(data, size))) check_list(s, *list);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto bytes = zeq::dearmor(zeq::ARMOR_REVOCATION_LIST, text)) {
    if (auto list = zeq::decode_revocation_list(*bytes)) check_list(s, *list);
  }
  return 0;
}
