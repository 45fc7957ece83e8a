// Revocation lists (identity/certificate.hpp): what a CA no longer vouches
// for, in one canonical signed encoding.
#include <algorithm>

#include "identity/certificate.hpp"

namespace zeq {

namespace {

constexpr std::string_view CRL_MAGIC = "ZQR";
constexpr std::string_view CRL_DOMAIN = "zeqvpn/crl/v1";
constexpr uint8_t CRL_VERSION = 1;
constexpr uint8_t KIND_CERTIFICATE = 1;
constexpr uint8_t KIND_KEY = 2;
// "ZQR" version issuer serial issued_z n
constexpr size_t HEADER_SIZE = 4 + 32 + 8 + 8 + 4;
constexpr size_t ENTRY_SIZE = 33;
constexpr size_t SIGNATURE_SIZE = 64;

// Everything the signature covers. The entries must be sorted and unique.
Bytes encode_list_body(const RevocationList& list) {
  Bytes out(CRL_MAGIC.begin(), CRL_MAGIC.end());
  out.reserve(HEADER_SIZE + ENTRY_SIZE * (list.certificates.size() + list.keys.size()) + SIGNATURE_SIZE);
  out.push_back(CRL_VERSION);
  out.insert(out.end(), list.issuer.begin(), list.issuer.end());
  uint8_t b[8];
  store_be64(b, list.serial);
  out.insert(out.end(), b, b + 8);
  store_be64(b, list.issued_z);
  out.insert(out.end(), b, b + 8);
  store_be32(b, uint32_t(list.certificates.size() + list.keys.size()));
  out.insert(out.end(), b, b + 4);
  for (const auto& d : list.certificates) {
    out.push_back(KIND_CERTIFICATE);
    out.insert(out.end(), d.begin(), d.end());
  }
  for (const auto& k : list.keys) {
    out.push_back(KIND_KEY);
    out.insert(out.end(), k.begin(), k.end());
  }
  return out;
}

template <typename T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

Status fail(size_t at, const std::string& field, const std::string& why) {
  return Status::error("revocation list byte " + std::to_string(at) + " (" + field + "): " + why);
}

}  // namespace

bool RevocationList::revokes(const Certificate& cert) const {
  return std::binary_search(certificates.begin(), certificates.end(), cert.fingerprint()) ||
         std::binary_search(keys.begin(), keys.end(), cert.body.x25519_public);
}

Result<RevocationList> sign_revocation_list(RevocationList list, const Ed25519Keypair& ca) {
  // Entries are a set: sorted and without repeats whatever the caller held.
  sort_unique(list.certificates);
  sort_unique(list.keys);
  if (list.certificates.size() + list.keys.size() > UINT32_MAX)
    return Status::error("revocation list: more than 2^32-1 entries; start a new CA");
  list.issuer = sha256(ca.public_key);
  list.encoded = encode_list_body(list);
  list.signature = ed25519_sign(ca, {as_bytes(CRL_DOMAIN), list.encoded});
  list.encoded.insert(list.encoded.end(), list.signature.begin(), list.signature.end());
  return list;
}

Result<RevocationList> decode_revocation_list(ByteSpan in) {
  if (in.size() < HEADER_SIZE + SIGNATURE_SIZE)
    return fail(in.size(), "size",
                "the list ends after " + std::to_string(in.size()) + " bytes; even an empty one has " +
                    std::to_string(HEADER_SIZE + SIGNATURE_SIZE) + " (cut short?)");
  if (std::string_view(reinterpret_cast<const char*>(in.data()), 3) != CRL_MAGIC)
    return fail(0, "magic", "not a zeqvpn revocation list (it starts with \"ZQR\")");
  if (in[3] != CRL_VERSION)
    return fail(3, "version", "version " + std::to_string(in[3]) + "; this zeqvpn reads version 1");
  RevocationList list;
  std::copy_n(in.begin() + 4, 32, list.issuer.begin());
  list.serial = load_be64(in.data() + 36);
  list.issued_z = load_be64(in.data() + 44);
  uint64_t n = load_be32(in.data() + 52);
  uint64_t expected = HEADER_SIZE + n * ENTRY_SIZE + SIGNATURE_SIZE;
  if (in.size() != expected)
    return fail(52, "count",
                std::to_string(n) + " entries make a list of " + std::to_string(expected) + " bytes, but it has " +
                    std::to_string(in.size()) + (in.size() > expected ? " (bytes after the signature)" : " (cut short?)"));
  size_t pos = HEADER_SIZE;
  uint8_t last_kind = 0;
  for (uint64_t i = 0; i < n; ++i, pos += ENTRY_SIZE) {
    std::string field = "entries[" + std::to_string(i) + "]";
    uint8_t kind = in[pos];
    if (kind != KIND_CERTIFICATE && kind != KIND_KEY)
      return fail(pos, field + " kind", std::to_string(kind) + " is neither 1 (certificate) nor 2 (key)");
    std::array<uint8_t, 32> value{};
    std::copy_n(in.begin() + long(pos + 1), 32, value.begin());
    // Strictly increasing (kind, value): sorted, and no entry twice.
    auto& same_kind = kind == KIND_CERTIFICATE ? list.certificates : list.keys;
    if (kind < last_kind || (kind == last_kind && !same_kind.empty() && value <= same_kind.back()))
      return fail(pos, field,
                  "not after entries[" + std::to_string(i - 1) +
                      "]: entries are sorted by (kind, value) and none is repeated");
    last_kind = kind;
    same_kind.push_back(value);
  }
  std::copy_n(in.begin() + long(pos), SIGNATURE_SIZE, list.signature.begin());
  list.encoded.assign(in.begin(), in.end());
  return list;
}

bool revocation_list_signed_by(const RevocationList& list, const CaPublicKey& ca) {
  if (list.encoded.size() < SIGNATURE_SIZE || list.issuer != ca.fingerprint()) return false;
  ByteSpan body(list.encoded.data(), list.encoded.size() - SIGNATURE_SIZE);
  return ed25519_verify(ca.key, list.signature, {as_bytes(CRL_DOMAIN), body});
}

}  // namespace zeq
