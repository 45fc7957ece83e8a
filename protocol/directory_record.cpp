// Directory records (protocol/directory_record.hpp): the field rules, the
// one canonical encoding, and the node's signature over it.
#include "protocol/directory_record.hpp"

#include <algorithm>

#include "core/net_address.hpp"
#include "protocol/relay_messages.hpp"

namespace zeq {

namespace {

constexpr std::string_view RECORD_MAGIC = "ZQD";
constexpr std::string_view RECORD_DOMAIN = "zeqvpn/record/v1";
constexpr uint8_t RECORD_VERSION = 1;
constexpr size_t HEADER_SIZE = 5;            // "ZQD" version kind
constexpr size_t CERT_OFFSET = HEADER_SIZE + 2;
constexpr size_t LIST_OFFSET = HEADER_SIZE + 4;
constexpr size_t SIGNATURE_SIZE = 64;

size_t address_bytes(uint8_t family) { return family == 4 ? 4 : 16; }

// What is wrong with one endpoint on its own (empty when nothing).
std::string endpoint_problem(const RecordEndpoint& e) {
  if (e.family != 4 && e.family != 6) return "family " + std::to_string(e.family) + " is neither 4 nor 6";
  const size_t n = address_bytes(e.family);
  if (std::any_of(e.address.begin() + long(n), e.address.end(), [](uint8_t b) { return b != 0; }))
    return "an IPv4 endpoint with address bytes beyond the fourth";
  if (std::all_of(e.address.begin(), e.address.begin() + long(n), [](uint8_t b) { return b == 0; }))
    return "the unspecified address " + e.to_string() + ": give an address the node can be reached at, not the wildcard";
  // ::ffff:a.b.c.d is an IPv4 endpoint; one way of writing it keeps records canonical.
  if (e.family == 6 && std::all_of(e.address.begin(), e.address.begin() + 10, [](uint8_t b) { return b == 0; }) &&
      e.address[10] == 0xff && e.address[11] == 0xff)
    return "the IPv4-mapped address " + e.to_string() + ": write it as an IPv4 endpoint (family 4)";
  if (e.port == 0) return "port 0; a node is reached on ports 1 to 65535";
  if (e.flags & ~RECORD_ENDPOINT_REPORTED)
    return "unknown flag bits in 0x" + to_hex(ByteSpan(&e.flags, 1)) + " (known: 0x01, reported)";
  return "";
}

// What is wrong with endpoint `e` coming after `before` (empty when nothing).
std::string endpoint_order_problem(const std::vector<RecordEndpoint>& before, const RecordEndpoint& e) {
  for (size_t j = 0; j < before.size(); ++j)
    if (before[j].same_place(e)) return e.to_string() + " repeats endpoints[" + std::to_string(j) + "]";
  if (!e.reported() && !before.empty() && before.back().reported())
    return "a listening endpoint after a reported one; listening endpoints come first";
  return "";
}

std::string relay_role_problem(const Certificate& cert) {
  if (cert.body.roles & CERT_ROLE_RELAY) return "";
  return "a relay offer, but the certificate does not give the relay role";
}

void put_header(Bytes& out, RecordKind kind) {
  out.assign(RECORD_MAGIC.begin(), RECORD_MAGIC.end());
  out.push_back(RECORD_VERSION);
  out.push_back(uint8_t(kind));
}

// Everything the node's signature covers. The record must be valid.
Bytes encode_node_body(const NodeRecord& r) {
  Bytes out;
  put_header(out, RecordKind::kNode);
  const Bytes& cert = r.certificate.encoded;
  append_be16(out, uint16_t(cert.size()));
  out.insert(out.end(), cert.begin(), cert.end());
  out.push_back(uint8_t(r.endpoints.size()));
  for (const auto& e : r.endpoints) {
    out.push_back(e.family);
    out.insert(out.end(), e.address.begin(), e.address.begin() + long(address_bytes(e.family)));
    append_be16(out, e.port);
    out.push_back(e.flags);
  }
  out.push_back(r.relay_port == 0 ? 0 : r.relay_terms ? 2 : 1);
  if (r.relay_port != 0) append_be16(out, r.relay_port);
  if (r.relay_port != 0 && r.relay_terms) {
    out.push_back(uint8_t(r.relay_unit));
    append_be64(out, r.relay_price);
    out.push_back(uint8_t(r.relay_region.size()));
    out.insert(out.end(), r.relay_region.begin(), r.relay_region.end());
  }
  append_be64(out, r.sequence);
  append_be64(out, r.made_z);
  return out;
}

// Reads the canonical encoding front to back; every refusal names the
// field and the byte offset where it starts.
class RecordDecoder {
 public:
  explicit RecordDecoder(ByteSpan in) : in_(in) {}

  Result<DirectoryRecord> decode();

 private:
  Status fail(size_t at, const std::string& field, const std::string& why) const {
    return Status::error("directory record byte " + std::to_string(at) + " (" + field + "): " + why);
  }
  // Whether n more bytes are there; error_ says where it ended otherwise.
  bool need(size_t n, const std::string& field) {
    if (in_.size() - pos_ >= n) return true;
    error_ = fail(pos_, field, "the record ends after " + std::to_string(in_.size()) + " bytes, " +
                                   std::to_string(n - (in_.size() - pos_)) + " more needed (cut short?)");
    return false;
  }
  uint8_t u8() { return in_[pos_++]; }
  uint16_t u16() {
    uint16_t v = load_be16(in_.data() + pos_);
    pos_ += 2;
    return v;
  }
  uint64_t u64() {
    uint64_t v = load_be64(in_.data() + pos_);
    pos_ += 8;
    return v;
  }
  Result<DirectoryRecord> node();
  Result<DirectoryRecord> revocation_list();
  bool endpoint(std::vector<RecordEndpoint>& out);

  ByteSpan in_;
  size_t pos_ = 0;
  Status error_;
};

bool RecordDecoder::endpoint(std::vector<RecordEndpoint>& out) {
  const std::string field = "endpoints[" + std::to_string(out.size()) + "]";
  const size_t at = pos_;
  if (!need(1, field + " family")) return false;
  RecordEndpoint e;
  e.family = u8();
  if (e.family != 4 && e.family != 6) {
    error_ = fail(at, field + " family", std::to_string(e.family) + " is neither 4 nor 6");
    return false;
  }
  const size_t n = address_bytes(e.family);
  if (!need(n + 3, field)) return false;
  std::copy_n(in_.begin() + long(pos_), n, e.address.begin());
  pos_ += n;
  e.port = u16();
  e.flags = u8();
  std::string problem = endpoint_problem(e);
  if (problem.empty()) problem = endpoint_order_problem(out, e);
  if (!problem.empty()) {
    error_ = fail(at, field, problem);
    return false;
  }
  out.push_back(e);
  return true;
}

Result<DirectoryRecord> RecordDecoder::node() {
  DirectoryRecord rec;
  rec.kind = RecordKind::kNode;
  NodeRecord& r = rec.node;
  if (in_.size() > MAX_NODE_RECORD_BYTES)
    return fail(MAX_NODE_RECORD_BYTES, "size",
                std::to_string(in_.size()) + " bytes, more than the " + std::to_string(MAX_NODE_RECORD_BYTES) +
                    " a node record may have");
  if (!need(2, "certificate length")) return error_;
  const size_t cert_len = u16();
  if (cert_len == 0 || cert_len > MAX_CERTIFICATE_BYTES)
    return fail(HEADER_SIZE, "certificate length",
                std::to_string(cert_len) + "; 1 to " + std::to_string(MAX_CERTIFICATE_BYTES) + " are allowed");
  if (!need(cert_len, "certificate")) return error_;
  auto cert = decode_certificate(in_.subspan(pos_, cert_len));
  if (!cert) return fail(CERT_OFFSET, "certificate", cert.message());
  r.certificate = std::move(cert.value());
  pos_ += cert_len;

  size_t at = pos_;
  if (!need(1, "endpoints count")) return error_;
  const size_t n = u8();
  if (n > MAX_RECORD_ENDPOINTS)
    return fail(at, "endpoints count",
                std::to_string(n) + "; 0 to " + std::to_string(MAX_RECORD_ENDPOINTS) + " are allowed");
  for (size_t i = 0; i < n; ++i)
    if (!endpoint(r.endpoints)) return error_;

  at = pos_;
  if (!need(1, "relay")) return error_;
  const uint8_t relay = u8();
  if (relay > 2)
    return fail(at, "relay", std::to_string(relay) + " is none of 0 (no relay offer), 1 (relay offered), 2 (offered with terms)");
  if (relay >= 1) {
    if (auto p = relay_role_problem(r.certificate); !p.empty()) return fail(at, "relay", p);
    if (!need(2, "relay_port")) return error_;
    r.relay_port = u16();
    if (r.relay_port == 0) return fail(at + 1, "relay_port", "port 0; a relay listens on ports 1 to 65535");
  }
  if (relay == 2) {
    r.relay_terms = true;
    at = pos_;
    if (!need(10, "relay terms")) return error_;
    const uint8_t unit = u8();
    if (unit > uint8_t(PricingUnit::kZeqond)) return fail(at, "relay unit", std::to_string(unit) + " is neither 0 (gb) nor 1 (zeqond)");
    r.relay_unit = PricingUnit(unit);
    r.relay_price = u64();
    at = pos_;
    const uint8_t len = u8();
    if (len > RELAY_REGION_MAX) return fail(at, "relay region", "length " + std::to_string(len) + "; at most 32");
    if (!need(len, "relay region")) return error_;
    r.relay_region.assign(reinterpret_cast<const char*>(in_.data() + pos_), len);
    pos_ += len;
    if (!valid_region(r.relay_region)) return fail(at + 1, "relay region", "characters other than A-Z a-z 0-9 . _ -");
  }

  at = pos_;
  if (!need(8, "sequence")) return error_;
  r.sequence = u64();
  if (r.sequence == 0) return fail(at, "sequence", "0; sequences start at 1");
  if (!need(8, "made_z")) return error_;
  r.made_z = u64();
  if (!need(SIGNATURE_SIZE, "signature")) return error_;
  std::copy_n(in_.begin() + long(pos_), SIGNATURE_SIZE, r.signature.begin());
  pos_ += SIGNATURE_SIZE;
  if (pos_ != in_.size()) return fail(pos_, "end", std::to_string(in_.size() - pos_) + " bytes after the signature");
  rec.encoded.assign(in_.begin(), in_.end());
  return rec;
}

Result<DirectoryRecord> RecordDecoder::revocation_list() {
  DirectoryRecord rec;
  rec.kind = RecordKind::kRevocationList;
  if (!need(4, "list length")) return error_;
  const uint64_t len = load_be32(in_.data() + pos_);
  pos_ += 4;
  if (len != in_.size() - pos_)
    return fail(HEADER_SIZE, "list length",
                std::to_string(len) + " bytes, but " + std::to_string(in_.size() - pos_) + " follow" +
                    (len > in_.size() - pos_ ? " (cut short?)" : " (bytes after the list)"));
  auto list = decode_revocation_list(in_.subspan(pos_));
  if (!list) return fail(LIST_OFFSET, "list", list.message());
  rec.revocation_list = std::move(list.value());
  rec.encoded.assign(in_.begin(), in_.end());
  return rec;
}

Result<DirectoryRecord> RecordDecoder::decode() {
  if (in_.size() > MAX_REVOCATION_RECORD_BYTES)
    return fail(MAX_REVOCATION_RECORD_BYTES, "size",
                std::to_string(in_.size()) + " bytes, more than the " + std::to_string(MAX_REVOCATION_RECORD_BYTES) +
                    " any record may have");
  if (!need(3, "magic")) return error_;
  if (!std::equal(RECORD_MAGIC.begin(), RECORD_MAGIC.end(), in_.begin()))
    return fail(0, "magic", "not a zeqvpn directory record (it starts with \"ZQD\")");
  pos_ = 3;
  if (!need(1, "version")) return error_;
  if (uint8_t v = u8(); v != RECORD_VERSION)
    return fail(3, "version", "version " + std::to_string(v) + "; this zeqvpn reads version 1");
  if (!need(1, "kind")) return error_;
  const uint8_t kind = u8();
  if (kind == uint8_t(RecordKind::kNode)) return node();
  if (kind == uint8_t(RecordKind::kRevocationList)) return revocation_list();
  return fail(4, "kind", std::to_string(kind) + " is neither 1 (node record) nor 2 (revocation list)");
}

}  // namespace

std::string RecordEndpoint::to_string() const {
  IpPrefix p;
  p.family = family;
  p.addr = address;
  return family == 6 ? "[" + p.address() + "]:" + std::to_string(port) : p.address() + ":" + std::to_string(port);
}

Status validate_node_record(const NodeRecord& r) {
  auto field_error = [](const std::string& field, const std::string& why) {
    return Status::error("node record " + field + ": " + why);
  };
  const size_t cert_len = r.certificate.encoded.size();
  if (cert_len == 0 || cert_len > MAX_CERTIFICATE_BYTES)
    return field_error("certificate", std::to_string(cert_len) + " bytes; a signed certificate of 1 to " +
                                          std::to_string(MAX_CERTIFICATE_BYTES) + " is needed");
  if (r.endpoints.size() > MAX_RECORD_ENDPOINTS)
    return field_error("endpoints", std::to_string(r.endpoints.size()) + " entries; 0 to " +
                                        std::to_string(MAX_RECORD_ENDPOINTS) + " are allowed");
  std::vector<RecordEndpoint> before;
  for (const auto& e : r.endpoints) {
    const std::string field = "endpoints[" + std::to_string(before.size()) + "]";
    std::string problem = endpoint_problem(e);
    if (problem.empty()) problem = endpoint_order_problem(before, e);
    if (!problem.empty()) return field_error(field, problem);
    before.push_back(e);
  }
  if (r.relay_port != 0)
    if (auto p = relay_role_problem(r.certificate); !p.empty()) return field_error("relay", p);
  if (r.relay_terms && r.relay_port == 0) return field_error("relay", "terms without a relay port");
  if (r.relay_terms && !valid_region(r.relay_region))
    return field_error("relay region", "'" + r.relay_region + "': at most 32 of A-Z a-z 0-9 . _ -");
  if (r.sequence == 0) return field_error("sequence", "0; sequences start at 1");
  // 16 endpoints and a certificate of 1000 bytes stay within the bound; the
  // check keeps the promise should either limit grow.
  const size_t size = encode_node_body(r).size() + SIGNATURE_SIZE;
  if (size > MAX_NODE_RECORD_BYTES)
    return field_error("size", std::to_string(size) + " bytes, more than the " +
                                   std::to_string(MAX_NODE_RECORD_BYTES) + " a node record may have");
  return Status::ok();
}

Result<DirectoryRecord> sign_node_record(NodeRecord record, const Ed25519Keypair& node_key) {
  // The certificate goes out as its bytes: decode them, so the fields the
  // checks below read are the ones every receiver will read.
  auto cert = decode_certificate(record.certificate.encoded);
  if (!cert) return Status::error("node record certificate: " + cert.message());
  record.certificate = std::move(cert.value());
  if (node_key.public_key != record.certificate.body.signing_public)
    return Status::error("node record: the signing key " + to_hex(node_key.public_key) +
                         " is not the certificate's signing_public " + to_hex(record.certificate.body.signing_public) +
                         "; sign with the node's own key (node_signing_keypair of its X25519 private key)");
  if (Status s = validate_node_record(record); !s) return s;
  DirectoryRecord rec;
  rec.kind = RecordKind::kNode;
  rec.encoded = encode_node_body(record);
  record.signature = ed25519_sign(node_key, {as_bytes(RECORD_DOMAIN), rec.encoded});
  rec.encoded.insert(rec.encoded.end(), record.signature.begin(), record.signature.end());
  rec.node = std::move(record);
  return rec;
}

Result<DirectoryRecord> revocation_list_record(const RevocationList& list) {
  auto decoded = decode_revocation_list(list.encoded);
  if (!decoded) return Status::error("revocation list record: " + decoded.message());
  if (list.encoded.size() > MAX_REVOCATION_RECORD_BYTES - LIST_OFFSET)
    return Status::error("revocation list record: the list has " + std::to_string(list.encoded.size()) +
                         " bytes, more than the " + std::to_string(MAX_REVOCATION_RECORD_BYTES - LIST_OFFSET) +
                         " a record carries");
  DirectoryRecord rec;
  rec.kind = RecordKind::kRevocationList;
  rec.revocation_list = std::move(decoded.value());
  rec.encoded = encode_directory_record(rec);
  return rec;
}

Result<DirectoryRecord> decode_directory_record(ByteSpan bytes) { return RecordDecoder(bytes).decode(); }

Bytes encode_directory_record(const DirectoryRecord& record) {
  if (record.kind == RecordKind::kNode) {
    Bytes out = encode_node_body(record.node);
    out.insert(out.end(), record.node.signature.begin(), record.node.signature.end());
    return out;
  }
  Bytes out;
  put_header(out, RecordKind::kRevocationList);
  const Bytes& list = record.revocation_list.encoded;
  uint8_t len[4];
  store_be32(len, uint32_t(list.size()));
  out.insert(out.end(), len, len + 4);
  out.insert(out.end(), list.begin(), list.end());
  return out;
}

bool node_record_signature_valid(const DirectoryRecord& record) {
  if (record.kind != RecordKind::kNode || record.encoded.size() <= SIGNATURE_SIZE) return false;
  const size_t body_size = record.encoded.size() - SIGNATURE_SIZE;
  ByteSpan body(record.encoded.data(), body_size);
  std::span<const uint8_t, SIGNATURE_SIZE> signature(record.encoded.data() + body_size, SIGNATURE_SIZE);
  return ed25519_verify(record.node.certificate.body.signing_public, signature, {as_bytes(RECORD_DOMAIN), body});
}

}  // namespace zeq
