// Mesh certificates: a mesh authority (CA, an Ed25519 key) vouches for a
// node's keys, name, addresses, roles and groups for a span of Zeqonds. One
// canonical binary encoding (docs/protocol.md, "Mesh certificates"), signed
// by the CA, carried in handshakes and files (text armour). Pure code: no
// files, no clock; callers hand in bytes and the Zeqond.
//
// Encoding (all integers big-endian; every list in the order given, no
// duplicates; a decoder accepts only the one canonical form, so re-encoding
// what it decoded gives the same bytes):
//   "ZQC" version(1)=1
//   name_len(1) name            1..64 of [A-Za-z0-9._-]
//   zid(16)                      "zeq-" + 12 lowercase hex
//   x25519_public(32)            the Noise static key
//   signing_public(32)           the node's Ed25519 key (its directory records)
//   n(1) addresses: family(1)=4|6 address(4|16) length(1)   1..8, host bits kept
//   n(1) allowed_ips: same form                               0..32, host bits zero
//   roles(1)                     bit 0 node, bit 1 relay; others zero; not 0
//   n(1) groups: len(1) group    0..16 of 1..32 [A-Za-z0-9._-]
//   owner_len(1)=0|16 owner      a Zeq Auth ZID, or nothing
//   not_before(8) not_after(8)   Zeqonds, not_before < not_after
//   issuer(32)                   SHA256(CA Ed25519 public key)
//   signature(64)                Ed25519(CA, "zeqvpn/cert/v1" || every byte above)
// At most MAX_CERTIFICATE_BYTES in all, so one fits in a handshake.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/net_address.hpp"
#include "core/result.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/hash.hpp"
#include "crypto/x25519.hpp"

namespace zeq {

// With the extension header around it, a handshake initiation stays within
// 1232 bytes of UDP payload (IPv6's minimum MTU), mac2 included.
inline constexpr size_t MAX_CERTIFICATE_BYTES = 1000;

enum CertRole : uint8_t { CERT_ROLE_NODE = 1, CERT_ROLE_RELAY = 2 };

// What the CA signs.
struct CertificateBody {
  std::string name;
  std::string zid;
  PublicKey x25519_public{};
  Ed25519PublicKey signing_public{};
  std::vector<IpPrefix> addresses;
  std::vector<IpPrefix> allowed_ips;
  uint8_t roles = CERT_ROLE_NODE;
  std::vector<std::string> groups;
  std::string owner;  // empty or a ZID
  uint64_t not_before_z = 0;
  uint64_t not_after_z = 0;
  Digest32 issuer{};
  bool operator==(const CertificateBody&) const = default;
};

// A signed certificate as decoded (the signature is not checked by decoding;
// TrustStore::check does that).
struct Certificate {
  CertificateBody body;
  std::array<uint8_t, 64> signature{};
  Bytes encoded;  // the canonical bytes, body and signature

  // SHA256(encoded): what revocation lists and `cert show` name.
  Digest32 fingerprint() const;
};

// The CA's public half, as `ca.pub` holds it.
struct CaPublicKey {
  std::string name;
  Ed25519PublicKey key{};
  Digest32 fingerprint() const;  // SHA256(key), a certificate's issuer
};

// Empty when the body can be encoded and signed (lengths, character sets,
// counts, canonical prefixes, dates); otherwise one line saying which field
// and why.
Status validate_certificate_body(const CertificateBody& body);
Result<Certificate> sign_certificate(const CertificateBody& body, const Ed25519Keypair& ca);
// Canonical bytes only; the error says which field is wrong and at which byte.
Result<Certificate> decode_certificate(ByteSpan bytes);
// Signature by `ca` over the body, and `issuer` equal to the CA's fingerprint.
bool certificate_signed_by(const Certificate& cert, const CaPublicKey& ca);

// The node's own Ed25519 signing key, derived from its X25519 private key
// (HKDF-SHA256, info "zeqvpn/signing/v1"), so it needs no file of its own.
Ed25519Keypair node_signing_keypair(std::span<const uint8_t, 32> x25519_private);

// Revocation list: what a CA no longer vouches for. Encoding:
//   "ZQR" version(1)=1 issuer(32) serial(8) issued_z(8)
//   n(4) entries: kind(1) value(32), sorted by (kind, value), no duplicates
//     kind 1: a certificate's fingerprint; kind 2: an X25519 public key
//     (every certificate for that key)
//   signature(64) = Ed25519(CA, "zeqvpn/crl/v1" || every byte above)
struct RevocationList {
  Digest32 issuer{};
  uint64_t serial = 0;  // a list never replaces one with a higher serial
  uint64_t issued_z = 0;
  std::vector<Digest32> certificates;
  std::vector<PublicKey> keys;
  std::array<uint8_t, 64> signature{};
  Bytes encoded;

  bool revokes(const Certificate& cert) const;
};
Result<RevocationList> sign_revocation_list(RevocationList list, const Ed25519Keypair& ca);
Result<RevocationList> decode_revocation_list(ByteSpan bytes);
bool revocation_list_signed_by(const RevocationList& list, const CaPublicKey& ca);

// Why a certificate is not accepted, for counters and log lines.
enum class CertVerdict : uint8_t {
  kValid,
  kUnknownIssuer,
  kBadSignature,
  kNotYetValid,
  kExpired,
  kRevoked,
  kKeyMismatch,  // not the key the handshake proved (callers check this)
};
const char* cert_verdict_name(CertVerdict v);  // "unknown_issuer", ...

// The CAs a node trusts (several at once, for rotation) and their newest
// revocation lists.
class TrustStore {
 public:
  void add_ca(const CaPublicKey& ca);
  const std::vector<CaPublicKey>& cas() const { return cas_; }
  // Keeps the list when it is signed by a trusted CA and newer (higher
  // serial) than the one held for that CA; an older or equal one is refused
  // with a message, the held one stays.
  Status add_revocation_list(const RevocationList& list);
  const RevocationList* revocation_list(const Digest32& issuer) const;
  // Issuer trusted, signature, not_before <= now_z < not_after, not revoked.
  CertVerdict check(const Certificate& cert, uint64_t now_z) const;
  bool empty() const { return cas_.empty(); }

 private:
  std::vector<CaPublicKey> cas_;
  std::vector<RevocationList> lists_;
};

// Text armour for files, as PEM does it: "-----BEGIN ZEQVPN <KIND>-----",
// base64 lines of 64 characters, "-----END ZEQVPN <KIND>-----". KIND is
// CERTIFICATE, CA PUBLIC KEY, CA PRIVATE KEY or REVOCATION LIST.
std::string armor(std::string_view kind, ByteSpan bytes);
// The bytes of the first block of that kind in `text`; anything around it is
// ignored (comments), a damaged block is an error naming the line.
Result<Bytes> dearmor(std::string_view kind, std::string_view text);

// CA key encodings inside the armour: version(1)=1 name_len(1) name key(32),
// the key being the public key or the private seed.
Bytes encode_ca_public_key(const CaPublicKey& ca);
Result<CaPublicKey> decode_ca_public_key(ByteSpan bytes);

// Added with the implementation (issue 11). The armour kinds, so that no
// caller misspells one.
inline constexpr std::string_view ARMOR_CERTIFICATE = "CERTIFICATE";
inline constexpr std::string_view ARMOR_CA_PUBLIC_KEY = "CA PUBLIC KEY";
inline constexpr std::string_view ARMOR_CA_PRIVATE_KEY = "CA PRIVATE KEY";
inline constexpr std::string_view ARMOR_REVOCATION_LIST = "REVOCATION LIST";

// The CA's private half, as `ca.key` holds it: the encoding above with the
// seed as key. The seed stays in the keypair's locked memory.
struct CaPrivateKey {
  std::string name;
  Ed25519Keypair key;
  CaPublicKey public_key() const { return CaPublicKey{name, key.public_key}; }
};
// Holds the seed: the caller wipes the bytes (secure_wipe) when done.
Bytes encode_ca_private_key(const CaPrivateKey& ca);
Result<CaPrivateKey> decode_ca_private_key(ByteSpan bytes);

}  // namespace zeq
