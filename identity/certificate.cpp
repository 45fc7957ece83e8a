// Mesh certificates: the field rules, the one canonical encoding, signing,
// and the CA key encodings (identity/certificate.hpp). Revocation lists,
// the trust store and the armour have files of their own.
#include "identity/certificate.hpp"

#include <algorithm>
#include <stdexcept>

#include "identity/certificate_rules.hpp"
#include "identity/zid.hpp"

namespace zeq {

namespace {

constexpr std::string_view CERT_MAGIC = "ZQC";
constexpr std::string_view CERT_DOMAIN = "zeqvpn/cert/v1";
constexpr std::string_view SIGNING_INFO = "zeqvpn/signing/v1";
constexpr uint8_t CERT_VERSION = 1;
constexpr uint8_t CA_KEY_VERSION = 1;

constexpr size_t MAX_NAME = 64;
constexpr size_t MIN_ADDRESSES = 1, MAX_ADDRESSES = 8;
constexpr size_t MAX_ALLOWED_IPS = 32;
constexpr size_t MAX_GROUPS = 16, MAX_GROUP = 32;
constexpr uint8_t KNOWN_ROLES = CERT_ROLE_NODE | CERT_ROLE_RELAY;

// What is wrong with one prefix of a list (empty when nothing).
std::string prefix_problem(const IpPrefix& p, bool host_bits_zero) {
  if (p.family != 4 && p.family != 6) return "family " + std::to_string(p.family) + " is neither 4 nor 6";
  if (p.length > p.address_bytes() * 8)
    return "prefix length /" + std::to_string(p.length) + " is longer than the address (at most /" +
           std::to_string(p.address_bytes() * 8) + ")";
  if (p.family == 4)
    for (size_t i = 4; i < p.addr.size(); ++i)
      if (p.addr[i] != 0) return "an IPv4 prefix with address bytes beyond the fourth";
  if (host_bits_zero && p.network() != p)
    return "host bits set in " + p.to_string() + "; write it as " + p.network().to_string();
  return "";
}

// Two addresses of a node are the same address whatever their lengths;
// two allowed_ips entries are the same when the whole prefix is.
bool duplicate_prefix(const IpPrefix& a, const IpPrefix& b, bool whole_prefix) {
  return a.family == b.family && a.addr == b.addr && (!whole_prefix || a.length == b.length);
}

std::string validity_problem(uint64_t not_before, uint64_t not_after) {
  if (not_before < not_after) return "";
  return "not_before " + std::to_string(not_before) + " is not before not_after " + std::to_string(not_after) +
         " (Zeqonds)";
}

std::string roles_problem(uint8_t roles) {
  if (roles == 0) return "no role: set node (bit 0), relay (bit 1) or both";
  if (roles & ~KNOWN_ROLES) return "unknown role bits in 0x" + to_hex(ByteSpan(&roles, 1)) + " (known: 0x03)";
  return "";
}

// One field's rule broken: "certificate FIELD: WHY".
Status field_error(const std::string& field, const std::string& why) {
  return Status::error("certificate " + field + ": " + why);
}

void put_u64(Bytes& out, uint64_t v) {
  uint8_t b[8];
  store_be64(b, v);
  out.insert(out.end(), b, b + 8);
}

void put_text(Bytes& out, std::string_view s) {
  out.push_back(uint8_t(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

void put_prefix(Bytes& out, const IpPrefix& p) {
  out.push_back(uint8_t(p.family));
  out.insert(out.end(), p.addr.begin(), p.addr.begin() + long(p.address_bytes()));
  out.push_back(p.length);
}

// Everything the signature covers. The body must be valid.
Bytes encode_body(const CertificateBody& b) {
  Bytes out(CERT_MAGIC.begin(), CERT_MAGIC.end());
  out.push_back(CERT_VERSION);
  put_text(out, b.name);
  out.insert(out.end(), b.zid.begin(), b.zid.end());
  out.insert(out.end(), b.x25519_public.begin(), b.x25519_public.end());
  out.insert(out.end(), b.signing_public.begin(), b.signing_public.end());
  out.push_back(uint8_t(b.addresses.size()));
  for (const auto& p : b.addresses) put_prefix(out, p);
  out.push_back(uint8_t(b.allowed_ips.size()));
  for (const auto& p : b.allowed_ips) put_prefix(out, p);
  out.push_back(b.roles);
  out.push_back(uint8_t(b.groups.size()));
  for (const auto& g : b.groups) put_text(out, g);
  put_text(out, b.owner);
  put_u64(out, b.not_before_z);
  put_u64(out, b.not_after_z);
  out.insert(out.end(), b.issuer.begin(), b.issuer.end());
  return out;
}

// Checks a list of prefixes of the body (lengths, families, host bits, no
// duplicates); empty Status when fine.
Status check_prefixes(const std::vector<IpPrefix>& list, const char* field, size_t min, size_t max,
                      bool allowed_ips) {
  if (list.size() < min || list.size() > max)
    return field_error(field, std::to_string(list.size()) + " entries; " + std::to_string(min) + " to " +
                                  std::to_string(max) + " are allowed");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    if (auto p = prefix_problem(list[i], allowed_ips); !p.empty()) return field_error(name, p);
    for (size_t j = 0; j < i; ++j)
      if (duplicate_prefix(list[i], list[j], allowed_ips))
        return field_error(name, list[i].to_string() + " repeats " + field + "[" + std::to_string(j) + "]");
  }
  return Status::ok();
}

// Reads the canonical encoding front to back; every refusal names the
// field and the byte offset where it starts.
class CertificateDecoder {
 public:
  explicit CertificateDecoder(ByteSpan in) : in_(in) {}

  Result<Certificate> decode();

 private:
  Status fail(size_t at, const std::string& field, const std::string& why) const {
    return Status::error("certificate byte " + std::to_string(at) + " (" + field + "): " + why);
  }
  // Whether n more bytes are there; error_ says where it ended otherwise.
  bool need(size_t n, const std::string& field) {
    if (in_.size() - pos_ >= n) return true;
    error_ = fail(pos_, field, "the certificate ends after " + std::to_string(in_.size()) + " bytes, " +
                                   std::to_string(n - (in_.size() - pos_)) + " more needed (cut short?)");
    return false;
  }
  uint8_t u8() { return in_[pos_++]; }
  uint64_t u64() {
    uint64_t v = load_be64(in_.data() + pos_);
    pos_ += 8;
    return v;
  }
  std::string text(size_t n) {
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  template <size_t N>
  void copy(std::array<uint8_t, N>& out) {
    std::copy_n(in_.begin() + long(pos_), N, out.begin());
    pos_ += N;
  }
  bool prefixes(std::vector<IpPrefix>& out, const char* field, size_t min, size_t max, bool allowed_ips);
  bool label(std::string& out, const std::string& field, size_t max);

  ByteSpan in_;
  size_t pos_ = 0;
  Status error_;
};

bool CertificateDecoder::label(std::string& out, const std::string& field, size_t max) {
  size_t at = pos_;
  if (!need(1, field + " length")) return false;
  size_t n = u8();
  if (n == 0 || n > max) {
    error_ = fail(at, field + " length", std::to_string(n) + "; 1 to " + std::to_string(max) + " are allowed");
    return false;
  }
  if (!need(n, field)) return false;
  out = text(n);
  if (auto p = label_problem(out, max); !p.empty()) {
    error_ = fail(at + 1, field, p);
    return false;
  }
  return true;
}

bool CertificateDecoder::prefixes(std::vector<IpPrefix>& out, const char* field, size_t min, size_t max,
                                  bool allowed_ips) {
  size_t at = pos_;
  if (!need(1, std::string(field) + " count")) return false;
  size_t n = u8();
  if (n < min || n > max) {
    error_ = fail(at, std::string(field) + " count",
                  std::to_string(n) + "; " + std::to_string(min) + " to " + std::to_string(max) + " are allowed");
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    at = pos_;
    if (!need(1, name + " family")) return false;
    IpPrefix p;
    p.family = u8();
    if (p.family != 4 && p.family != 6) {
      error_ = fail(at, name + " family", std::to_string(p.family) + " is neither 4 nor 6");
      return false;
    }
    if (!need(p.address_bytes() + 1, name)) return false;
    std::copy_n(in_.begin() + long(pos_), p.address_bytes(), p.addr.begin());
    pos_ += p.address_bytes();
    p.length = u8();
    if (auto problem = prefix_problem(p, allowed_ips); !problem.empty()) {
      error_ = fail(at, name, problem);
      return false;
    }
    for (size_t j = 0; j < out.size(); ++j)
      if (duplicate_prefix(p, out[j], allowed_ips)) {
        error_ = fail(at, name, p.to_string() + " repeats " + field + "[" + std::to_string(j) + "]");
        return false;
      }
    out.push_back(p);
  }
  return true;
}

Result<Certificate> CertificateDecoder::decode() {
  if (in_.size() > MAX_CERTIFICATE_BYTES)
    return fail(MAX_CERTIFICATE_BYTES, "size",
                std::to_string(in_.size()) + " bytes, more than the " + std::to_string(MAX_CERTIFICATE_BYTES) +
                    " a certificate may have");
  Certificate cert;
  CertificateBody& b = cert.body;
  if (!need(4, "magic")) return error_;
  if (text(3) != CERT_MAGIC) return fail(0, "magic", "not a zeqvpn certificate (it starts with \"ZQC\")");
  if (uint8_t v = u8(); v != CERT_VERSION)
    return fail(3, "version", "version " + std::to_string(v) + "; this zeqvpn reads version 1");
  if (!label(b.name, "name", MAX_NAME)) return error_;
  size_t at = pos_;
  if (!need(ZID_LENGTH, "zid")) return error_;
  b.zid = text(ZID_LENGTH);
  if (!is_valid_zid(b.zid)) return fail(at, "zid", quoted(b.zid) + " is not a ZID (\"zeq-\" and 12 lowercase hex digits)");
  if (!need(b.x25519_public.size(), "x25519_public")) return error_;
  copy(b.x25519_public);
  if (!need(b.signing_public.size(), "signing_public")) return error_;
  copy(b.signing_public);
  if (!prefixes(b.addresses, "addresses", MIN_ADDRESSES, MAX_ADDRESSES, false)) return error_;
  if (!prefixes(b.allowed_ips, "allowed_ips", 0, MAX_ALLOWED_IPS, true)) return error_;
  at = pos_;
  if (!need(1, "roles")) return error_;
  b.roles = u8();
  if (auto p = roles_problem(b.roles); !p.empty()) return fail(at, "roles", p);
  at = pos_;
  if (!need(1, "groups count")) return error_;
  size_t groups = u8();
  if (groups > MAX_GROUPS)
    return fail(at, "groups count", std::to_string(groups) + "; 0 to " + std::to_string(MAX_GROUPS) + " are allowed");
  for (size_t i = 0; i < groups; ++i) {
    std::string name = "groups[" + std::to_string(i) + "]";
    at = pos_;
    std::string g;
    if (!label(g, name, MAX_GROUP)) return error_;
    for (size_t j = 0; j < b.groups.size(); ++j)
      if (b.groups[j] == g) return fail(at, name, quoted(g) + " repeats groups[" + std::to_string(j) + "]");
    b.groups.push_back(std::move(g));
  }
  at = pos_;
  if (!need(1, "owner length")) return error_;
  if (size_t n = u8(); n != 0) {
    if (n != ZID_LENGTH) return fail(at, "owner length", std::to_string(n) + "; 0 (no owner) or 16 (a ZID)");
    if (!need(n, "owner")) return error_;
    b.owner = text(n);
    if (!is_valid_zid(b.owner))
      return fail(at + 1, "owner", quoted(b.owner) + " is not a ZID (\"zeq-\" and 12 lowercase hex digits)");
  }
  at = pos_;
  if (!need(16, "not_before")) return error_;
  b.not_before_z = u64();
  b.not_after_z = u64();
  if (auto p = validity_problem(b.not_before_z, b.not_after_z); !p.empty()) return fail(at, "not_before", p);
  if (!need(b.issuer.size(), "issuer")) return error_;
  copy(b.issuer);
  if (!need(cert.signature.size(), "signature")) return error_;
  copy(cert.signature);
  if (pos_ != in_.size())
    return fail(pos_, "end", std::to_string(in_.size() - pos_) + " bytes after the signature");
  cert.encoded.assign(in_.begin(), in_.end());
  return cert;
}

// CA key files: version(1)=1 name_len(1) name key(32).
Bytes encode_ca_key(std::string_view name, std::span<const uint8_t, 32> key) {
  Bytes out;
  out.reserve(2 + name.size() + key.size());  // no reallocation: no stray copy of a seed
  out.push_back(CA_KEY_VERSION);
  put_text(out, name);
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

// Decodes a CA key encoding into name and key (the key straight into the
// caller's memory). what: "CA public key" or "CA private key".
Status decode_ca_key(ByteSpan in, const char* what, std::string& name, std::span<uint8_t, 32> key) {
  auto fail = [what](size_t at, const std::string& field, const std::string& why) {
    return Status::error(std::string(what) + " byte " + std::to_string(at) + " (" + field + "): " + why);
  };
  if (in.size() < 2) return fail(in.size(), "version", "the encoding ends after " + std::to_string(in.size()) + " bytes");
  if (in[0] != CA_KEY_VERSION) return fail(0, "version", "version " + std::to_string(in[0]) + "; this zeqvpn reads version 1");
  size_t n = in[1];
  if (n == 0 || n > MAX_NAME) return fail(1, "name length", std::to_string(n) + "; 1 to 64 are allowed");
  if (in.size() != 2 + n + key.size())
    return fail(std::min(in.size(), 2 + n + key.size()), "key",
                std::to_string(in.size()) + " bytes in all where the name's length says " +
                    std::to_string(2 + n + key.size()));
  name.assign(reinterpret_cast<const char*>(in.data() + 2), n);
  if (auto p = label_problem(name, MAX_NAME); !p.empty()) return fail(2, "name", p);
  std::copy_n(in.begin() + long(2 + n), key.size(), key.begin());
  return Status::ok();
}

}  // namespace

std::string label_problem(std::string_view s, size_t max) {
  bool ok = !s.empty() && s.size() <= max;
  for (char c : s) ok = ok && is_label_char(c);
  if (ok) return "";
  return quoted(s) + " is not 1 to " + std::to_string(max) + " characters of A-Z a-z 0-9 . _ -";
}

std::string quoted(std::string_view s) {
  static constexpr char HEX[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 80; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += char(c);
    } else {
      out += "\\x";
      out += HEX[c >> 4];
      out += HEX[c & 15];
    }
  }
  if (s.size() > 80) out += "...";
  return out + "\"";
}

Digest32 Certificate::fingerprint() const { return sha256(encoded); }
Digest32 CaPublicKey::fingerprint() const { return sha256(key); }

Status validate_certificate_body(const CertificateBody& b) {
  if (auto p = label_problem(b.name, MAX_NAME); !p.empty()) return field_error("name", p);
  if (!is_valid_zid(b.zid))
    return field_error("zid", quoted(b.zid) + " is not a ZID (\"zeq-\" and 12 lowercase hex digits)");
  if (Status s = check_prefixes(b.addresses, "addresses", MIN_ADDRESSES, MAX_ADDRESSES, false); !s) return s;
  if (Status s = check_prefixes(b.allowed_ips, "allowed_ips", 0, MAX_ALLOWED_IPS, true); !s) return s;
  if (auto p = roles_problem(b.roles); !p.empty()) return field_error("roles", p);
  if (b.groups.size() > MAX_GROUPS)
    return field_error("groups", std::to_string(b.groups.size()) + " entries; 0 to 16 are allowed");
  for (size_t i = 0; i < b.groups.size(); ++i) {
    std::string name = "groups[" + std::to_string(i) + "]";
    if (auto p = label_problem(b.groups[i], MAX_GROUP); !p.empty()) return field_error(name, p);
    for (size_t j = 0; j < i; ++j)
      if (b.groups[i] == b.groups[j])
        return field_error(name, quoted(b.groups[i]) + " repeats groups[" + std::to_string(j) + "]");
  }
  if (!b.owner.empty() && !is_valid_zid(b.owner))
    return field_error("owner", quoted(b.owner) + " is not a ZID (\"zeq-\" and 12 lowercase hex digits), nor empty");
  if (auto p = validity_problem(b.not_before_z, b.not_after_z); !p.empty()) return field_error("not_before", p);
  size_t size = encode_body(b).size() + sizeof(Certificate::signature);
  if (size > MAX_CERTIFICATE_BYTES)
    return Status::error("certificate: " + std::to_string(size) + " bytes encoded, more than the " +
                         std::to_string(MAX_CERTIFICATE_BYTES) +
                         " a handshake carries; give fewer addresses, allowed_ips or groups");
  return Status::ok();
}

Result<Certificate> sign_certificate(const CertificateBody& body, const Ed25519Keypair& ca) {
  Certificate cert;
  cert.body = body;
  // The issuer is the signing CA by definition: whatever the body held is
  // replaced, so a caller cannot sign under one CA and name another.
  cert.body.issuer = sha256(ca.public_key);
  if (Status s = validate_certificate_body(cert.body); !s) return s;
  cert.encoded = encode_body(cert.body);
  cert.signature = ed25519_sign(ca, {as_bytes(CERT_DOMAIN), cert.encoded});
  cert.encoded.insert(cert.encoded.end(), cert.signature.begin(), cert.signature.end());
  return cert;
}

Result<Certificate> decode_certificate(ByteSpan bytes) { return CertificateDecoder(bytes).decode(); }

bool certificate_signed_by(const Certificate& cert, const CaPublicKey& ca) {
  if (cert.encoded.size() < cert.signature.size() || cert.body.issuer != ca.fingerprint()) return false;
  ByteSpan body(cert.encoded.data(), cert.encoded.size() - cert.signature.size());
  return ed25519_verify(ca.key, cert.signature, {as_bytes(CERT_DOMAIN), body});
}

Ed25519Keypair node_signing_keypair(std::span<const uint8_t, 32> x25519_private) {
  Key32 seed;
  if (!hkdf_sha256({}, x25519_private, as_bytes(SIGNING_INFO), seed.mutable_span()))
    throw std::runtime_error("HKDF-SHA256 failed in OpenSSL while deriving the node's signing key");
  return ed25519_from_seed(seed.span());
}

Bytes encode_ca_public_key(const CaPublicKey& ca) { return encode_ca_key(ca.name, ca.key); }

Result<CaPublicKey> decode_ca_public_key(ByteSpan bytes) {
  CaPublicKey ca;
  if (Status s = decode_ca_key(bytes, "CA public key", ca.name, ca.key); !s) return s;
  return ca;
}

Bytes encode_ca_private_key(const CaPrivateKey& ca) { return encode_ca_key(ca.name, ca.key.seed.span()); }

Result<CaPrivateKey> decode_ca_private_key(ByteSpan bytes) {
  CaPrivateKey ca;
  Key32 seed;
  if (Status s = decode_ca_key(bytes, "CA private key", ca.name, seed.mutable_span()); !s) return s;
  ca.key = ed25519_from_seed(seed.span());
  return ca;
}

}  // namespace zeq
