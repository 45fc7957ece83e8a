// Directory records (protocol/directory_record.hpp): the vectors of the
// independent Python implementation (tests/data/record_vectors.py) byte for
// byte, every truncation and single-bit flip refused, each field rule at its
// byte offset, and what signing refuses.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/bytes.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/x25519.hpp"
#include "identity/certificate.hpp"
#include "identity/zid.hpp"
#include "protocol/directory_record.hpp"
#include "directory_test_nodes.hpp"
#include "test_data.hpp"

namespace zeq {

namespace {

using test::hex;
using test::hex_array;
using test::records;
using test::certs;


Ed25519Keypair vector_ca() { return ed25519_from_seed(hex_array<32>(certs()["ca"]["seed"])); }
Ed25519Keypair vector_node_key() { return ed25519_from_seed(hex_array<32>(records()["signing_seed"])); }
Certificate vector_certificate(size_t i) {
  return decode_certificate(hex(certs()["certificates"][i]["encoded"])).value();
}
Bytes vector_record(size_t i) { return hex(records()["node_records"][i]["encoded"]); }
Bytes vector_list_record() { return hex(records()["revocation_list_record"]["encoded"]); }

RecordEndpoint endpoint(const std::string& address, uint16_t port, bool reported = false) {
  IpPrefix p = parse_ip_prefix(address).value();
  RecordEndpoint e;
  e.family = uint8_t(p.family);
  e.address = p.addr;
  e.port = port;
  e.flags = reported ? RECORD_ENDPOINT_REPORTED : 0;
  return e;
}

NodeRecord record_from_json(const nlohmann::json& j) {
  NodeRecord r;
  r.certificate = vector_certificate(j["certificate"]);
  for (const auto& e : j["endpoints"]) r.endpoints.push_back(endpoint(e["address"], e["port"], e["reported"]));
  r.relay_port = j["relay_port"];
  r.sequence = j["sequence"];
  r.made_z = j["made_z"];
  return r;
}

// The decoder's error for bytes, "" when they decoded.
std::string decode_error(const Bytes& bytes) {
  auto r = decode_directory_record(bytes);
  return r ? "" : r.message();
}

Bytes splice(Bytes data, size_t at, size_t len, const Bytes& replacement) {
  data.erase(data.begin() + long(at), data.begin() + long(at + len));
  data.insert(data.begin() + long(at), replacement.begin(), replacement.end());
  return data;
}

// Byte offsets in vector record 0: certificate 0 (213 bytes), endpoints
// 192.0.2.10:51820, [2001:db8::10]:51820, 198.51.100.7:40001 (reported).
constexpr size_t OFF_KIND = 4, OFF_CERT_LEN = 5, OFF_CERT = 7, OFF_COUNT = 220, OFF_EP0 = 221, OFF_EP1 = 229,
                 OFF_EP2 = 249, OFF_RELAY = 257, OFF_SEQUENCE = 258, OFF_MADE = 266, OFF_SIGNATURE = 274,
                 RECORD0_SIZE = 338;

}  // namespace

// --- Vectors of tests/data/record_vectors.py --------------------------------

TEST(RecordVectors, NodeRecordsSignedByteForByte) {
  const auto key = vector_node_key();
  EXPECT_EQ(to_hex(key.public_key), certs()["node"]["signing_public"]);
  for (const auto& v : records()["node_records"]) {
    SCOPED_TRACE(v["description"].get<std::string>());
    auto signed_record = sign_node_record(record_from_json(v), key);
    ASSERT_TRUE(signed_record) << signed_record.message();
    EXPECT_EQ(to_hex(signed_record->encoded), v["encoded"]);
    EXPECT_EQ(signed_record->encoded.size(), v["size"].get<size_t>());
    EXPECT_TRUE(node_record_signature_valid(*signed_record));
  }
}

TEST(RecordVectors, NodeRecordsDecodeToTheirFields) {
  for (const auto& v : records()["node_records"]) {
    SCOPED_TRACE(v["description"].get<std::string>());
    const Bytes bytes = hex(v["encoded"]);
    auto rec = decode_directory_record(bytes);
    ASSERT_TRUE(rec) << rec.message();
    EXPECT_EQ(rec->kind, RecordKind::kNode);
    const NodeRecord want = record_from_json(v);
    EXPECT_EQ(rec->node.certificate.encoded, want.certificate.encoded);
    EXPECT_EQ(rec->node.certificate.body.zid, v["zid"]);
    EXPECT_EQ(rec->node.endpoints, want.endpoints);
    EXPECT_EQ(rec->node.relay_port, want.relay_port);
    EXPECT_EQ(rec->node.sequence, want.sequence);
    EXPECT_EQ(rec->node.made_z, want.made_z);
    EXPECT_EQ(rec->encoded, bytes);
    EXPECT_EQ(encode_directory_record(*rec), bytes);
    EXPECT_TRUE(node_record_signature_valid(*rec));
  }
  auto rec = decode_directory_record(vector_record(0)).value();
  ASSERT_EQ(rec.node.endpoints.size(), 3u);
  EXPECT_EQ(rec.node.endpoints[0].to_string(), "192.0.2.10:51820");
  EXPECT_EQ(rec.node.endpoints[1].to_string(), "[2001:db8::10]:51820");
  EXPECT_TRUE(rec.node.endpoints[2].reported());
  EXPECT_EQ(rec.encoded.size(), RECORD0_SIZE);
}

TEST(RecordVectors, RevocationListRecordWrapsTheList) {
  const auto list = decode_revocation_list(hex(certs()["revocation_list"]["encoded"])).value();
  auto wrapped = revocation_list_record(list);
  ASSERT_TRUE(wrapped) << wrapped.message();
  EXPECT_EQ(to_hex(wrapped->encoded), records()["revocation_list_record"]["encoded"]);
  auto rec = decode_directory_record(vector_list_record());
  ASSERT_TRUE(rec) << rec.message();
  EXPECT_EQ(rec->kind, RecordKind::kRevocationList);
  EXPECT_EQ(rec->revocation_list.serial, records()["revocation_list_record"]["serial"].get<uint64_t>());
  EXPECT_EQ(rec->revocation_list.encoded, list.encoded);
  EXPECT_EQ(encode_directory_record(*rec), vector_list_record());
  EXPECT_FALSE(node_record_signature_valid(*rec));  // a list has the CA's signature, not a node's
}

// --- Damage -------------------------------------------------------------------

TEST(DirectoryRecord, EveryTruncationIsRefused) {
  std::vector<Bytes> all = {vector_record(0), vector_record(1), vector_record(2), vector_list_record()};
  for (const Bytes& bytes : all)
    for (size_t n = 0; n < bytes.size(); ++n) {
      Bytes cut(bytes.begin(), bytes.begin() + long(n));
      EXPECT_NE(decode_error(cut), "") << "a record cut to " << n << " of " << bytes.size() << " bytes decoded";
    }
  const Bytes r0 = vector_record(0);
  std::string e = decode_error(Bytes(r0.begin(), r0.end() - 1));
  EXPECT_EQ(e, "directory record byte 274 (signature): the record ends after 337 bytes, 1 more needed (cut short?)");
}

TEST(DirectoryRecord, TrailingBytesAreRefused) {
  Bytes bytes = vector_record(0);
  bytes.push_back(0);
  EXPECT_EQ(decode_error(bytes), "directory record byte 338 (end): 1 bytes after the signature");
  Bytes list = vector_list_record();
  list.push_back(0);
  EXPECT_NE(decode_error(list).find("directory record byte 5 (list length)"), std::string::npos) << decode_error(list);
}

TEST(DirectoryRecord, EverySingleBitFlipOfANodeRecordIsRefused) {
  for (size_t i = 0; i < 3; ++i) {
    const Bytes good = vector_record(i);
    for (size_t bit = 0; bit < good.size() * 8; ++bit) {
      Bytes bad = good;
      bad[bit / 8] ^= uint8_t(1 << (bit % 8));
      auto rec = decode_directory_record(bad);
      EXPECT_TRUE(!rec || !node_record_signature_valid(*rec)) << "record " << i << ", bit " << bit << " flipped passed";
    }
  }
}

TEST(DirectoryRecord, EverySingleBitFlipOfARevocationListRecordIsRefused) {
  const CaPublicKey ca{"ca", vector_ca().public_key};
  const Bytes good = vector_list_record();
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    Bytes bad = good;
    bad[bit / 8] ^= uint8_t(1 << (bit % 8));
    auto rec = decode_directory_record(bad);
    EXPECT_TRUE(!rec || rec->kind != RecordKind::kRevocationList || !revocation_list_signed_by(rec->revocation_list, ca))
        << "bit " << bit << " flipped passed";
  }
}

// --- Field rules, each at its byte ----------------------------------------------

TEST(DirectoryRecord, HeaderRules) {
  const Bytes r = vector_record(0);
  EXPECT_EQ(decode_error(splice(r, 0, 1, {'X'})),
            "directory record byte 0 (magic): not a zeqvpn directory record (it starts with \"ZQD\")");
  EXPECT_EQ(decode_error(splice(r, 3, 1, {2})), "directory record byte 3 (version): version 2; this zeqvpn reads version 1");
  EXPECT_EQ(decode_error(splice(r, OFF_KIND, 1, {3})),
            "directory record byte 4 (kind): 3 is neither 1 (node record) nor 2 (revocation list)");
  EXPECT_EQ(decode_error(splice(r, OFF_KIND, 1, {0})),
            "directory record byte 4 (kind): 0 is neither 1 (node record) nor 2 (revocation list)");
  EXPECT_EQ(decode_error({}), "directory record byte 0 (magic): the record ends after 0 bytes, 3 more needed (cut short?)");
}

TEST(DirectoryRecord, CertificateRules) {
  const Bytes r = vector_record(0);
  EXPECT_EQ(decode_error(splice(r, OFF_CERT_LEN, 2, {0, 0})),
            "directory record byte 5 (certificate length): 0; 1 to 1000 are allowed");
  EXPECT_EQ(decode_error(splice(r, OFF_CERT_LEN, 2, {0x03, 0xe9})),
            "directory record byte 5 (certificate length): 1001; 1 to 1000 are allowed");
  // One byte shorter: the certificate decoder sees its signature cut short.
  std::string e = decode_error(splice(r, OFF_CERT_LEN, 2, {0, 212}));
  EXPECT_EQ(e.rfind("directory record byte 7 (certificate): certificate byte ", 0), 0u) << e;
  // A certificate broken inside: the record's offset, then the certificate's.
  Bytes bad_roles = r;
  bad_roles[OFF_CERT + 98] = 0;  // certificate 0's roles byte
  EXPECT_EQ(decode_error(bad_roles),
            "directory record byte 7 (certificate): certificate byte 98 (roles): no role: set node (bit 0), relay "
            "(bit 1) or both");
}

TEST(DirectoryRecord, EndpointRules) {
  const Bytes r = vector_record(0);
  EXPECT_EQ(decode_error(splice(r, OFF_COUNT, 1, {17})),
            "directory record byte 220 (endpoints count): 17; 0 to 16 are allowed");
  EXPECT_EQ(decode_error(splice(r, OFF_EP0, 1, {5})), "directory record byte 221 (endpoints[0] family): 5 is neither 4 nor 6");
  EXPECT_EQ(decode_error(splice(r, OFF_EP0 + 5, 2, {0, 0})),
            "directory record byte 221 (endpoints[0]): port 0; a node is reached on ports 1 to 65535");
  EXPECT_EQ(decode_error(splice(r, OFF_EP0 + 7, 1, {2})),
            "directory record byte 221 (endpoints[0]): unknown flag bits in 0x02 (known: 0x01, reported)");
  EXPECT_EQ(decode_error(splice(r, OFF_EP0 + 1, 4, {0, 0, 0, 0})),
            "directory record byte 221 (endpoints[0]): the unspecified address 0.0.0.0:51820: give an address the "
            "node can be reached at, not the wildcard");
  // [2001:db8::10] becomes [::ffff:192.0.2.10].
  Bytes mapped = r;
  std::fill(mapped.begin() + OFF_EP1 + 1, mapped.begin() + OFF_EP1 + 11, 0);
  mapped[OFF_EP1 + 11] = 0xff, mapped[OFF_EP1 + 12] = 0xff;
  std::copy_n(r.begin() + OFF_EP0 + 1, 4, mapped.begin() + OFF_EP1 + 13);
  EXPECT_EQ(decode_error(mapped),
            "directory record byte 229 (endpoints[1]): the IPv4-mapped address [::ffff:192.0.2.10]:51820: write it "
            "as an IPv4 endpoint (family 4)");
  // The reported endpoint made the same address:port as endpoints[0] (flags aside).
  Bytes twice = r;
  std::copy_n(r.begin() + OFF_EP0 + 1, 6, twice.begin() + OFF_EP2 + 1);
  EXPECT_EQ(decode_error(twice), "directory record byte 249 (endpoints[2]): 192.0.2.10:51820 repeats endpoints[0]");
  // endpoints[1] marked reported, endpoints[2] listening again.
  Bytes order = r;
  order[OFF_EP1 + 19] = 1;
  order[OFF_EP2 + 7] = 0;
  EXPECT_EQ(decode_error(order),
            "directory record byte 249 (endpoints[2]): a listening endpoint after a reported one; listening "
            "endpoints come first");
}

TEST(DirectoryRecord, RelaySequenceAndSizeRules) {
  const Bytes r = vector_record(0);
  EXPECT_EQ(decode_error(splice(r, OFF_RELAY, 1, {3})),
            "directory record byte 257 (relay): 3 is none of 0 (no relay offer), 1 (relay offered), 2 (offered with terms)");
  // Certificate 0 has the node role only.
  EXPECT_EQ(decode_error(splice(r, OFF_RELAY, 1, {1, 0x0d, 0x96})),
            "directory record byte 257 (relay): a relay offer, but the certificate does not give the relay role");
  // Record 1 (relay-1, relay role) with relay_port 0: certificate 1 is 316 bytes, one endpoint of 20.
  const Bytes r1 = vector_record(1);
  const size_t relay1 = 7 + 316 + 1 + 20;
  ASSERT_EQ(r1[relay1], 1);
  EXPECT_EQ(decode_error(splice(r1, relay1 + 1, 2, {0, 0})),
            "directory record byte 345 (relay_port): port 0; a relay listens on ports 1 to 65535");
  // Relay byte 2: the offer with its terms (unit, price, region).
  Bytes terms = splice(r1, relay1, 3, {2, r1[relay1 + 1], r1[relay1 + 2], 1, 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 4, 'e', 'u', '-', '1'});
  auto with_terms = decode_directory_record(terms);
  ASSERT_TRUE(with_terms) << with_terms.message();
  EXPECT_TRUE(with_terms->node.relay_terms);
  EXPECT_EQ(with_terms->node.relay_unit, PricingUnit::kZeqond);
  EXPECT_EQ(with_terms->node.relay_price, 1000u);
  EXPECT_EQ(with_terms->node.relay_region, "eu-1");
  EXPECT_EQ(encode_directory_record(*with_terms), terms);  // canonical
  EXPECT_EQ(decode_error(splice(terms, relay1 + 3, 1, {2})),
            "directory record byte 347 (relay unit): 2 is neither 0 (gb) nor 1 (zeqond)");
  EXPECT_EQ(decode_error(splice(terms, relay1 + 12, 1, {33})), "directory record byte 356 (relay region): length 33; at most 32");
  EXPECT_EQ(decode_error(splice(terms, relay1 + 13, 1, {' '})),
            "directory record byte 357 (relay region): characters other than A-Z a-z 0-9 . _ -");
  EXPECT_EQ(decode_error(splice(r, OFF_SEQUENCE, 8, Bytes(8, 0))), "directory record byte 258 (sequence): 0; sequences start at 1");
  Bytes big = r;
  big.resize(MAX_NODE_RECORD_BYTES + 1);
  EXPECT_EQ(decode_error(big), "directory record byte 2048 (size): 2049 bytes, more than the 2048 a node record may have");
  Bytes huge = vector_list_record();
  huge.resize(MAX_REVOCATION_RECORD_BYTES + 1);
  EXPECT_NE(decode_error(huge).find("(size): 1048577 bytes"), std::string::npos) << decode_error(huge);
  EXPECT_EQ(OFF_MADE + 8, OFF_SIGNATURE);
}

TEST(DirectoryRecord, RevocationListLengthMustMatch) {
  const Bytes r = vector_list_record();
  Bytes longer_claim = r;
  longer_claim[8] += 1;
  EXPECT_EQ(decode_error(longer_claim),
            "directory record byte 5 (list length): " + std::to_string(r.size() - 9 + 1) + " bytes, but " +
                std::to_string(r.size() - 9) + " follow (cut short?)");
  Bytes bad_list = r;
  bad_list[9] = 'X';
  EXPECT_EQ(decode_error(bad_list).rfind("directory record byte 9 (list): revocation list byte 0 (magic)", 0), 0u)
      << decode_error(bad_list);
}

// --- Signing -----------------------------------------------------------------------

TEST(DirectoryRecord, SigningRefusesWhatNoNodeWouldAccept) {
  const auto key = vector_node_key();
  NodeRecord r = record_from_json(records()["node_records"][0]);
  auto other = sign_node_record(r, ed25519_generate());
  ASSERT_FALSE(other);
  EXPECT_NE(other.message().find("is not the certificate's signing_public"), std::string::npos) << other.message();

  NodeRecord relay = r;
  relay.relay_port = 3478;
  EXPECT_EQ(sign_node_record(relay, key).message(),
            "node record relay: a relay offer, but the certificate does not give the relay role");
  NodeRecord zero = r;
  zero.sequence = 0;
  EXPECT_EQ(sign_node_record(zero, key).message(), "node record sequence: 0; sequences start at 1");
  NodeRecord many = r;
  many.endpoints.clear();
  for (uint16_t i = 1; i <= 17; ++i) many.endpoints.push_back(endpoint("192.0.2.1", i));
  EXPECT_EQ(sign_node_record(many, key).message(), "node record endpoints: 17 entries; 0 to 16 are allowed");
  NodeRecord order = r;
  std::swap(order.endpoints[1], order.endpoints[2]);
  EXPECT_EQ(sign_node_record(order, key).message(),
            "node record endpoints[2]: a listening endpoint after a reported one; listening endpoints come first");
  NodeRecord port = r;
  port.endpoints[0].port = 0;
  EXPECT_EQ(sign_node_record(port, key).message(),
            "node record endpoints[0]: port 0; a node is reached on ports 1 to 65535");
  NodeRecord no_cert = r;
  no_cert.certificate = Certificate{};
  EXPECT_FALSE(sign_node_record(no_cert, key));
}

TEST(DirectoryRecord, TheLargestRecordFitsItsBound) {
  // A certificate near its 1000-byte limit (8 IPv6 addresses, 32 IPv6
  // allowed_ips, a 64-character name), 16 IPv6 endpoints and a relay offer.
  const auto node = x25519_generate();
  const auto key = node_signing_keypair(node.private_key.span());
  CertificateBody b;
  b.name = std::string(64, 'n');
  b.zid = zid_from_public_key(node.public_key);
  b.x25519_public = node.public_key;
  b.signing_public = key.public_key;
  for (int i = 0; i < 8; ++i) b.addresses.push_back(parse_ip_prefix("fd77::" + std::to_string(i + 1) + "/64").value());
  for (int i = 0; i < 32; ++i) b.allowed_ips.push_back(parse_ip_prefix("fd78:" + std::to_string(i) + "::/32").value());
  b.roles = CERT_ROLE_NODE | CERT_ROLE_RELAY;
  b.not_before_z = 1, b.not_after_z = 2;
  auto cert = sign_certificate(b, vector_ca());
  ASSERT_TRUE(cert) << cert.message();
  EXPECT_GE(cert->encoded.size(), 980u);
  NodeRecord r;
  r.certificate = *cert;
  for (uint16_t i = 1; i <= MAX_RECORD_ENDPOINTS; ++i)
    r.endpoints.push_back(endpoint("2001:db8::" + std::to_string(i), i, i > 8));
  r.relay_port = 3478;
  r.sequence = UINT64_MAX;
  r.made_z = UINT64_MAX;
  auto rec = sign_node_record(r, key);
  ASSERT_TRUE(rec) << rec.message();
  EXPECT_LE(rec->encoded.size(), MAX_NODE_RECORD_BYTES);
  auto back = decode_directory_record(rec->encoded);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(encode_directory_record(*back), rec->encoded);
  EXPECT_TRUE(node_record_signature_valid(*back));
}

}  // namespace zeq
