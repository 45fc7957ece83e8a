// Mesh certificates (identity/certificate.hpp) and Ed25519 (crypto/ed25519.hpp):
// the vectors of the independent Python implementation
// (tests/data/cert_vectors.py) byte for byte, every truncation and bit flip,
// each field rule, the trust checks and the armour.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/bytes.hpp"
#include "crypto/ed25519.hpp"
#include "identity/certificate.hpp"
#include "identity/zid.hpp"
#include "test_data.hpp"

namespace zeq {

namespace {

using test::hex;
using test::hex_array;

const nlohmann::json& vectors() {
  static const nlohmann::json v = test::load_json("cert-vectors.json");
  return v;
}

Ed25519Keypair vector_ca() { return ed25519_from_seed(hex_array<32>(vectors()["ca"]["seed"])); }
CaPublicKey public_of(const Ed25519Keypair& kp, std::string name = "ca") { return CaPublicKey{std::move(name), kp.public_key}; }

IpPrefix prefix(const std::string& s) { return parse_ip_prefix(s).value(); }

CertificateBody body_from_json(const nlohmann::json& j) {
  CertificateBody b;
  b.name = j["name"];
  b.zid = j["zid"];
  b.x25519_public = hex_array<32>(j["x25519_public"]);
  b.signing_public = hex_array<32>(j["signing_public"]);
  for (const auto& p : j["addresses"]) b.addresses.push_back(prefix(p));
  for (const auto& p : j["allowed_ips"]) b.allowed_ips.push_back(prefix(p));
  b.roles = j["roles"];
  for (const auto& g : j["groups"]) b.groups.push_back(g);
  b.owner = j["owner"];
  b.not_before_z = j["not_before_z"];
  b.not_after_z = j["not_after_z"];
  return b;
}

// A valid body for a fresh node key, valid from Zeqond 1000 to 2000.
CertificateBody sample_body() {
  auto node = x25519_generate();
  CertificateBody b;
  b.name = "node-1";
  b.zid = zid_from_public_key(node.public_key);
  b.x25519_public = node.public_key;
  b.signing_public = node_signing_keypair(node.private_key.span()).public_key;
  b.addresses = {prefix("10.77.0.1/24"), prefix("fd77::1/64")};
  b.allowed_ips = {prefix("10.77.0.1/32"), prefix("fd77::1/128")};
  b.roles = CERT_ROLE_NODE;
  b.groups = {"ops"};
  b.not_before_z = 1000;
  b.not_after_z = 2000;
  return b;
}

Certificate vector_certificate(size_t i) { return decode_certificate(hex(vectors()["certificates"][i]["encoded"])).value(); }

// The error of a refused body or encoding, "" when it was accepted.
std::string error_of(const Status& s) { return s ? "" : s.message(); }
template <typename T>
std::string error_of(const Result<T>& r) { return r ? "" : r.message(); }

// Splices replacement over bytes [at, at + len) of data.
Bytes splice(Bytes data, size_t at, size_t len, const Bytes& replacement) {
  data.erase(data.begin() + long(at), data.begin() + long(at + len));
  data.insert(data.begin() + long(at), replacement.begin(), replacement.end());
  return data;
}

// Byte offsets in vector certificate 0 (name "alpha", one IPv4 address, no
// allowed_ips, no groups, no owner).
constexpr size_t OFF_NAME_LEN = 4, OFF_NAME = 5, OFF_ZID = 10, OFF_ADDR_COUNT = 90, OFF_ADDR_LEN = 96,
                 OFF_ALLOWED_COUNT = 97, OFF_ROLES = 98, OFF_GROUPS = 99, OFF_OWNER = 100, OFF_NOT_BEFORE = 101,
                 OFF_ISSUER = 117, CERT0_SIZE = 213;

}  // namespace

// --- Ed25519 -------------------------------------------------------------

TEST(Ed25519, Rfc8032TestVector1) {
  auto kp = ed25519_from_seed(hex_array<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  EXPECT_EQ(to_hex(kp.public_key), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = ed25519_sign(kp, {});
  EXPECT_EQ(to_hex(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(ed25519_verify(kp.public_key, sig, {}));
}

TEST(Ed25519, PartsAreConcatenatedAndAnyChangeFails) {
  auto kp = ed25519_generate();
  Bytes a = {1, 2, 3}, b = {4, 5}, ab = {1, 2, 3, 4, 5};
  auto sig = ed25519_sign(kp, {a, b});
  EXPECT_TRUE(ed25519_verify(kp.public_key, sig, {ab}));
  EXPECT_TRUE(ed25519_verify(kp.public_key, sig, {Bytes{1}, Bytes{2, 3, 4, 5}}));
  EXPECT_FALSE(ed25519_verify(kp.public_key, sig, {Bytes{1, 2, 3, 4, 6}}));
  sig[10] ^= 1;
  EXPECT_FALSE(ed25519_verify(kp.public_key, sig, {ab}));
  EXPECT_FALSE(ed25519_verify(ed25519_generate().public_key, ed25519_sign(kp, {ab}), {ab}));
  EXPECT_EQ(ed25519_from_seed(kp.seed.span()).public_key, kp.public_key);
}

// --- Vectors of tests/data/cert_vectors.py ---------------------------------

TEST(CertVectors, CaKeyEncodingsAndArmour) {
  const auto& v = vectors()["ca"];
  auto ca = vector_ca();
  EXPECT_EQ(to_hex(ca.public_key), v["public"]);
  CaPublicKey pub{v["name"], ca.public_key};
  EXPECT_EQ(to_hex(pub.fingerprint()), v["fingerprint"]);
  EXPECT_EQ(to_hex(encode_ca_public_key(pub)), v["public_encoded"]);
  EXPECT_EQ(armor(ARMOR_CA_PUBLIC_KEY, encode_ca_public_key(pub)), v["public_armor"]);
  CaPrivateKey priv{v["name"], ca};
  EXPECT_EQ(to_hex(encode_ca_private_key(priv)), v["private_encoded"]);
  auto back = decode_ca_private_key(hex(v["private_encoded"]));
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->public_key().key, ca.public_key);
  EXPECT_EQ(back->name, v["name"]);
  auto pub_back = decode_ca_public_key(dearmor(ARMOR_CA_PUBLIC_KEY, v["public_armor"].get<std::string>()).value());
  ASSERT_TRUE(pub_back) << pub_back.message();
  EXPECT_EQ(pub_back->key, ca.public_key);
}

TEST(CertVectors, NodeSigningKey) {
  const auto& v = vectors()["node"];
  auto kp = node_signing_keypair(hex_array<32>(v["x25519_private"]));
  EXPECT_EQ(to_hex(kp.seed.span()), v["signing_seed"]);
  EXPECT_EQ(to_hex(kp.public_key), v["signing_public"]);
}

TEST(CertVectors, CertificatesByteForByte) {
  auto ca = vector_ca();
  TrustStore trust;
  trust.add_ca(public_of(ca));
  for (const auto& c : vectors()["certificates"]) {
    SCOPED_TRACE(c["description"].get<std::string>());
    CertificateBody body = body_from_json(c);
    auto signed_cert = sign_certificate(body, ca);
    ASSERT_TRUE(signed_cert) << signed_cert.message();
    EXPECT_EQ(to_hex(signed_cert->encoded), c["encoded"]);
    EXPECT_EQ(to_hex(signed_cert->fingerprint()), c["fingerprint"]);
    EXPECT_EQ(armor(ARMOR_CERTIFICATE, signed_cert->encoded), c["armor"]);
    auto decoded = decode_certificate(hex(c["encoded"]));
    ASSERT_TRUE(decoded) << decoded.message();
    body.issuer = public_of(ca).fingerprint();
    EXPECT_EQ(decoded->body, body);
    EXPECT_EQ(decoded->signature, signed_cert->signature);
    EXPECT_TRUE(certificate_signed_by(*decoded, public_of(ca)));
    EXPECT_EQ(trust.check(*decoded, body.not_before_z), CertVerdict::kValid);
    auto from_armor = dearmor(ARMOR_CERTIFICATE, c["armor"].get<std::string>());
    ASSERT_TRUE(from_armor) << from_armor.message();
    EXPECT_EQ(to_hex(*from_armor), c["encoded"]);
  }
}

TEST(CertVectors, RevocationListByteForByte) {
  const auto& v = vectors()["revocation_list"];
  auto ca = vector_ca();
  RevocationList list;
  list.serial = v["serial"];
  list.issued_z = v["issued_z"];
  // Given in the vector's order (unsorted): signing sorts them.
  for (const auto& d : v["certificates"]) list.certificates.push_back(hex_array<32>(d));
  for (const auto& k : v["keys"]) list.keys.push_back(hex_array<32>(k));
  auto signed_list = sign_revocation_list(list, ca);
  ASSERT_TRUE(signed_list) << signed_list.message();
  EXPECT_EQ(to_hex(signed_list->encoded), v["encoded"]);
  EXPECT_EQ(armor(ARMOR_REVOCATION_LIST, signed_list->encoded), v["armor"]);
  auto decoded = decode_revocation_list(hex(v["encoded"]));
  ASSERT_TRUE(decoded) << decoded.message();
  EXPECT_EQ(decoded->certificates, signed_list->certificates);
  EXPECT_EQ(decoded->keys, signed_list->keys);
  EXPECT_EQ(decoded->serial, 7u);
  EXPECT_TRUE(revocation_list_signed_by(*decoded, public_of(ca)));
  for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(decoded->revokes(vector_certificate(i)));
}

// --- Encoding ---------------------------------------------------------------

TEST(Certificate, RoundTripIsCanonical) {
  auto ca = ed25519_generate();
  auto body = sample_body();
  body.owner = "zeq-0123456789ab";
  body.roles = CERT_ROLE_NODE | CERT_ROLE_RELAY;
  auto cert = sign_certificate(body, ca);
  ASSERT_TRUE(cert) << cert.message();
  EXPECT_EQ(cert->body.issuer, sha256(ca.public_key));  // filled in by signing
  auto back = decode_certificate(cert->encoded);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->body, cert->body);
  EXPECT_EQ(back->encoded, cert->encoded);
  auto again = sign_certificate(back->body, ca);
  EXPECT_EQ(again->encoded, cert->encoded);
  EXPECT_TRUE(certificate_signed_by(*back, public_of(ca)));
  EXPECT_FALSE(certificate_signed_by(*back, public_of(ed25519_generate())));
}

TEST(Certificate, EveryTruncationIsRefused) {
  for (size_t i = 0; i < 2; ++i) {
    Bytes full = hex(vectors()["certificates"][i]["encoded"]);
    for (size_t n = 0; n < full.size(); ++n) {
      auto r = decode_certificate(ByteSpan(full.data(), n));
      EXPECT_FALSE(r) << "certificate " << i << " cut to " << n << " bytes was accepted";
    }
  }
}

TEST(Certificate, EveryBitFlipIsRefusedByDecodeOrSignature) {
  auto ca = vector_ca();
  TrustStore trust;
  trust.add_ca(public_of(ca));
  for (size_t i = 0; i < 2; ++i) {
    Bytes full = hex(vectors()["certificates"][i]["encoded"]);
    uint64_t now = vectors()["certificates"][i]["not_before_z"];
    size_t decoded_ok = 0;
    for (size_t bit = 0; bit < full.size() * 8; ++bit) {
      Bytes flipped = full;
      flipped[bit / 8] ^= uint8_t(1u << (bit % 8));
      auto r = decode_certificate(flipped);
      if (!r) continue;
      ++decoded_ok;
      EXPECT_NE(trust.check(*r, now), CertVerdict::kValid) << "bit " << bit << " of certificate " << i;
      // What decodes is canonical and passes the body rules: signing the
      // decoded body again gives the same bytes up to the issuer.
      auto resigned = sign_certificate(r->body, ca);
      ASSERT_TRUE(resigned) << "bit " << bit << ": " << resigned.message();
      size_t body_end = flipped.size() - 64 - 32;
      EXPECT_TRUE(std::equal(flipped.begin(), flipped.begin() + long(body_end), resigned->encoded.begin()))
          << "bit " << bit;
    }
    EXPECT_GT(decoded_ok, 0u);  // the keys, the signature and more decode: the signature refuses them
  }
}

TEST(Certificate, DecodeNamesFieldAndOffset) {
  Bytes good = hex(vectors()["certificates"][0]["encoded"]);
  ASSERT_EQ(good.size(), CERT0_SIZE);
  auto at = [&](size_t offset, uint8_t value) {
    Bytes b = good;
    b[offset] = value;
    return error_of(decode_certificate(b));
  };
  EXPECT_EQ(at(0, 'X'), "certificate byte 0 (magic): not a zeqvpn certificate (it starts with \"ZQC\")");
  EXPECT_EQ(at(3, 2), "certificate byte 3 (version): version 2; this zeqvpn reads version 1");
  EXPECT_EQ(at(OFF_NAME_LEN, 0), "certificate byte 4 (name length): 0; 1 to 64 are allowed");
  EXPECT_EQ(at(OFF_NAME + 1, ' '),
            "certificate byte 5 (name): \"a pha\" is not 1 to 64 characters of A-Z a-z 0-9 . _ -");
  EXPECT_NE(at(OFF_ZID + 4, 'A').find("byte 10 (zid)"), std::string::npos);
  EXPECT_NE(at(OFF_ADDR_COUNT, 0).find("byte 90 (addresses count): 0; 1 to 8"), std::string::npos);
  EXPECT_NE(at(OFF_ADDR_COUNT, 9).find("byte 90 (addresses count): 9"), std::string::npos);
  EXPECT_NE(at(OFF_ADDR_COUNT + 1, 5).find("byte 91 (addresses[0] family): 5 is neither 4 nor 6"), std::string::npos);
  EXPECT_NE(at(OFF_ADDR_LEN, 33).find("byte 91 (addresses[0]): prefix length /33"), std::string::npos);
  EXPECT_NE(at(OFF_ALLOWED_COUNT, 33).find("byte 97 (allowed_ips count): 33; 0 to 32"), std::string::npos);
  EXPECT_NE(at(OFF_ROLES, 0).find("byte 98 (roles): no role"), std::string::npos);
  EXPECT_NE(at(OFF_ROLES, 5).find("byte 98 (roles): unknown role bits in 0x05"), std::string::npos);
  EXPECT_NE(at(OFF_GROUPS, 17).find("byte 99 (groups count): 17"), std::string::npos);
  EXPECT_NE(at(OFF_OWNER, 5).find("byte 100 (owner length): 5; 0 (no owner) or 16"), std::string::npos);
  // not_before = not_after
  Bytes same = good;
  std::copy_n(good.begin() + OFF_NOT_BEFORE + 8, 8, same.begin() + OFF_NOT_BEFORE);
  EXPECT_NE(error_of(decode_certificate(same)).find("byte 101 (not_before): not_before 2350754173 is not before"),
            std::string::npos);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(error_of(decode_certificate(longer)), "certificate byte 213 (end): 1 bytes after the signature");
  EXPECT_NE(error_of(decode_certificate(Bytes(MAX_CERTIFICATE_BYTES + 1, 0))).find("(size): " + std::to_string(MAX_CERTIFICATE_BYTES + 1) + " bytes"),
            std::string::npos);
  EXPECT_NE(error_of(decode_certificate(ByteSpan(good.data(), 100))).find("byte 100 (owner length): the certificate ends"),
            std::string::npos);
}

TEST(Certificate, DecodeRefusesNonCanonicalLists) {
  Bytes good = hex(vectors()["certificates"][0]["encoded"]);
  // allowed_ips 10.77.0.1/24: host bits set.
  Bytes host_bits = splice(good, OFF_ALLOWED_COUNT, 1, {1, 4, 10, 77, 0, 1, 24});
  EXPECT_EQ(error_of(decode_certificate(host_bits)),
            "certificate byte 98 (allowed_ips[0]): host bits set in 10.77.0.1/24; write it as 10.77.0.0/24");
  Bytes dup_allowed = splice(good, OFF_ALLOWED_COUNT, 1, {2, 4, 10, 77, 0, 0, 24, 4, 10, 77, 0, 0, 24});
  EXPECT_EQ(error_of(decode_certificate(dup_allowed)),
            "certificate byte 104 (allowed_ips[1]): 10.77.0.0/24 repeats allowed_ips[0]");
  // The same address twice, even with another length.
  Bytes dup_address = splice(good, OFF_ADDR_COUNT, 1, {2, 4, 10, 77, 0, 1, 16});
  EXPECT_NE(error_of(decode_certificate(dup_address)).find("(addresses[1]): 10.77.0.1/24 repeats addresses[0]"),
            std::string::npos);
  Bytes dup_group = splice(good, OFF_GROUPS, 1, {2, 1, 'a', 1, 'a'});
  EXPECT_NE(error_of(decode_certificate(dup_group)).find("byte 102 (groups[1]): \"a\" repeats groups[0]"),
            std::string::npos);
  Bytes bad_group = splice(good, OFF_GROUPS, 1, {1, 2, 'a', '/'});
  EXPECT_NE(error_of(decode_certificate(bad_group)).find("byte 101 (groups[0]): \"a/\" is not"), std::string::npos);
  Bytes empty_group = splice(good, OFF_GROUPS, 1, {1, 0});
  EXPECT_NE(error_of(decode_certificate(empty_group)).find("byte 100 (groups[0] length): 0"), std::string::npos);
  Bytes owner = splice(good, OFF_OWNER, 1, Bytes{16});
  std::string bad_owner = "zeq-0123456789aX";
  owner.insert(owner.begin() + OFF_OWNER + 1, bad_owner.begin(), bad_owner.end());
  EXPECT_NE(error_of(decode_certificate(owner)).find("byte 101 (owner): \"zeq-0123456789aX\" is not a ZID"),
            std::string::npos);
  Bytes v4_long = splice(good, OFF_ADDR_COUNT, 7, {1, 6, 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 129});
  EXPECT_NE(error_of(decode_certificate(v4_long)).find("(addresses[0]): prefix length /129"), std::string::npos);
}

// --- Body rules ----------------------------------------------------------------

TEST(Certificate, EachBodyRule) {
  struct Case {
    const char* what;
    void (*change)(CertificateBody&);
    const char* error;  // a part of the message
  };
  const Case cases[] = {
      {"empty name", [](CertificateBody& b) { b.name = ""; }, "certificate name: \"\" is not 1 to 64"},
      {"long name", [](CertificateBody& b) { b.name = std::string(65, 'a'); }, "certificate name:"},
      {"name character", [](CertificateBody& b) { b.name = "a b"; }, "certificate name: \"a b\""},
      {"name control byte", [](CertificateBody& b) { b.name = std::string("a\nb"); }, "\"a\\x0ab\""},
      {"zid", [](CertificateBody& b) { b.zid = "zeq-XYZ"; }, "certificate zid: \"zeq-XYZ\" is not a ZID"},
      {"no address", [](CertificateBody& b) { b.addresses.clear(); }, "certificate addresses: 0 entries; 1 to 8"},
      {"nine addresses",
       [](CertificateBody& b) {
         b.addresses.clear();
         for (int i = 1; i <= 9; ++i) b.addresses.push_back(prefix("10.0.0." + std::to_string(i) + "/24"));
       },
       "certificate addresses: 9 entries"},
      {"family", [](CertificateBody& b) { b.addresses[0].family = 5; }, "addresses[0]: family 5"},
      {"length", [](CertificateBody& b) { b.addresses[0].length = 33; }, "addresses[0]: prefix length /33"},
      {"v4 junk", [](CertificateBody& b) { b.addresses[0].addr[7] = 1; }, "addresses[0]: an IPv4 prefix"},
      {"same address", [](CertificateBody& b) { b.addresses.push_back(prefix("10.77.0.1/16")); },
       "addresses[2]: 10.77.0.1/16 repeats addresses[0]"},
      {"host bits", [](CertificateBody& b) { b.allowed_ips.push_back(prefix("192.168.1.1/24")); },
       "allowed_ips[2]: host bits set in 192.168.1.1/24; write it as 192.168.1.0/24"},
      {"v6 host bits", [](CertificateBody& b) { b.allowed_ips.push_back(prefix("fd00::1/64")); },
       "write it as fd00::/64"},
      {"same allowed", [](CertificateBody& b) { b.allowed_ips.push_back(prefix("10.77.0.1/32")); },
       "allowed_ips[2]: 10.77.0.1/32 repeats allowed_ips[0]"},
      {"33 allowed",
       [](CertificateBody& b) {
         b.allowed_ips.clear();
         for (int i = 0; i < 33; ++i) b.allowed_ips.push_back(prefix("10.0." + std::to_string(i) + ".0/24"));
       },
       "allowed_ips: 33 entries; 0 to 32"},
      {"no role", [](CertificateBody& b) { b.roles = 0; }, "certificate roles: no role"},
      {"unknown role", [](CertificateBody& b) { b.roles = 0x81; }, "certificate roles: unknown role bits in 0x81"},
      {"17 groups",
       [](CertificateBody& b) {
         b.groups.clear();
         for (int i = 0; i < 17; ++i) b.groups.push_back("g" + std::to_string(i));
       },
       "certificate groups: 17 entries"},
      {"empty group", [](CertificateBody& b) { b.groups = {""}; }, "groups[0]: \"\" is not 1 to 32"},
      {"long group", [](CertificateBody& b) { b.groups = {std::string(33, 'g')}; }, "groups[0]:"},
      {"group character", [](CertificateBody& b) { b.groups = {"a,b"}; }, "groups[0]: \"a,b\""},
      {"same group", [](CertificateBody& b) { b.groups = {"x", "y", "x"}; }, "groups[2]: \"x\" repeats groups[0]"},
      {"owner", [](CertificateBody& b) { b.owner = "alice"; }, "certificate owner: \"alice\" is not a ZID"},
      {"equal dates", [](CertificateBody& b) { b.not_after_z = b.not_before_z; },
       "certificate not_before: not_before 1000 is not before not_after 1000"},
      {"reversed dates", [](CertificateBody& b) { b.not_before_z = 3000; }, "not_before 3000 is not before"},
      {"too large",
       [](CertificateBody& b) {
         b.name = std::string(64, 'n');
         b.groups.clear();
         for (int i = 0; i < 16; ++i) b.groups.push_back(std::string(31, 'g') + char('a' + i));
         b.allowed_ips.clear();
         for (int i = 0; i < 20; ++i) b.allowed_ips.push_back(prefix("fd00:" + std::to_string(i) + "::/64"));
       },
       "bytes encoded, more than the "},
  };
  auto ca = ed25519_generate();
  ASSERT_TRUE(validate_certificate_body(sample_body()));
  for (const auto& c : cases) {
    CertificateBody b = sample_body();
    c.change(b);
    std::string err = error_of(validate_certificate_body(b));
    EXPECT_NE(err.find(c.error), std::string::npos) << c.what << ": got \"" << err << "\"";
    EXPECT_FALSE(sign_certificate(b, ca)) << c.what;
  }
  // The limits themselves are fine.
  CertificateBody edge = sample_body();
  edge.name = std::string(64, 'n');
  edge.groups = {std::string(32, 'g'), "A.b_c-9"};
  edge.not_after_z = edge.not_before_z + 1;
  edge.allowed_ips = {prefix("0.0.0.0/0"), prefix("::/0")};
  EXPECT_TRUE(validate_certificate_body(edge)) << error_of(validate_certificate_body(edge));
}

// --- Trust ---------------------------------------------------------------------

TEST(TrustStore, ChainTwoTrustedCasAndAThirdRefused) {
  auto ca1 = ed25519_generate(), ca2 = ed25519_generate(), ca3 = ed25519_generate();
  TrustStore trust;
  EXPECT_TRUE(trust.empty());
  trust.add_ca(public_of(ca1, "one"));
  trust.add_ca(public_of(ca2, "two"));
  trust.add_ca(public_of(ca1, "one again"));  // the same key once
  EXPECT_EQ(trust.cas().size(), 2u);
  auto body = sample_body();
  EXPECT_EQ(trust.check(sign_certificate(body, ca1).value(), 1500), CertVerdict::kValid);
  EXPECT_EQ(trust.check(sign_certificate(body, ca2).value(), 1500), CertVerdict::kValid);
  EXPECT_EQ(trust.check(sign_certificate(body, ca3).value(), 1500), CertVerdict::kUnknownIssuer);
}

TEST(TrustStore, SignatureAndIssuer) {
  auto ca1 = ed25519_generate(), ca2 = ed25519_generate();
  TrustStore trust;
  trust.add_ca(public_of(ca1));
  trust.add_ca(public_of(ca2));
  auto cert = sign_certificate(sample_body(), ca1).value();
  // Claims CA 2 as issuer but is signed by CA 1.
  Bytes forged = cert.encoded;
  auto fp2 = public_of(ca2).fingerprint();
  std::copy(fp2.begin(), fp2.end(), forged.end() - 64 - 32);
  EXPECT_EQ(trust.check(decode_certificate(forged).value(), 1500), CertVerdict::kBadSignature);
  // A changed field with the old signature.
  Certificate changed = cert;
  changed.body.roles = CERT_ROLE_RELAY;
  auto re = sign_certificate(changed.body, ca1).value();
  Bytes spliced = re.encoded;
  std::copy(cert.signature.begin(), cert.signature.end(), spliced.end() - 64);
  EXPECT_EQ(trust.check(decode_certificate(spliced).value(), 1500), CertVerdict::kBadSignature);
}

TEST(TrustStore, ValidityBoundaries) {
  auto ca = ed25519_generate();
  TrustStore trust;
  trust.add_ca(public_of(ca));
  auto cert = sign_certificate(sample_body(), ca).value();
  EXPECT_EQ(trust.check(cert, 0), CertVerdict::kNotYetValid);
  EXPECT_EQ(trust.check(cert, 999), CertVerdict::kNotYetValid);
  EXPECT_EQ(trust.check(cert, 1000), CertVerdict::kValid);
  EXPECT_EQ(trust.check(cert, 1999), CertVerdict::kValid);
  EXPECT_EQ(trust.check(cert, 2000), CertVerdict::kExpired);
  EXPECT_EQ(trust.check(cert, UINT64_MAX), CertVerdict::kExpired);
}

TEST(TrustStore, RevocationByFingerprintAndByKey) {
  auto ca = ed25519_generate(), other_ca = ed25519_generate();
  TrustStore trust;
  trust.add_ca(public_of(ca));
  trust.add_ca(public_of(other_ca));
  auto body = sample_body();
  auto cert = sign_certificate(body, ca).value();
  body.name = "renewed";
  auto renewed = sign_certificate(body, ca).value();
  auto from_other = sign_certificate(body, other_ca).value();

  RevocationList by_fp;
  by_fp.serial = 1;
  by_fp.certificates = {cert.fingerprint()};
  ASSERT_TRUE(trust.add_revocation_list(sign_revocation_list(by_fp, ca).value()));
  EXPECT_EQ(trust.check(cert, 1500), CertVerdict::kRevoked);
  EXPECT_EQ(trust.check(renewed, 1500), CertVerdict::kValid);
  // Revocation comes after the dates: an expired revoked certificate is expired.
  EXPECT_EQ(trust.check(cert, 2000), CertVerdict::kExpired);

  RevocationList by_key;
  by_key.serial = 2;
  by_key.keys = {body.x25519_public};
  ASSERT_TRUE(trust.add_revocation_list(sign_revocation_list(by_key, ca).value()));
  EXPECT_EQ(trust.check(cert, 1500), CertVerdict::kRevoked);
  EXPECT_EQ(trust.check(renewed, 1500), CertVerdict::kRevoked);
  // Another CA's certificate for the same key: that CA's list decides.
  EXPECT_EQ(trust.check(from_other, 1500), CertVerdict::kValid);
  EXPECT_EQ(trust.revocation_list(public_of(ca).fingerprint())->serial, 2u);
  EXPECT_EQ(trust.revocation_list(public_of(ed25519_generate()).fingerprint()), nullptr);
}

TEST(TrustStore, OlderOrEqualSerialAndUntrustedListsRefused) {
  auto ca = ed25519_generate();
  TrustStore trust;
  trust.add_ca(public_of(ca, "mesh"));
  RevocationList l;
  l.serial = 5;
  ASSERT_TRUE(trust.add_revocation_list(sign_revocation_list(l, ca).value()));
  Status equal = trust.add_revocation_list(sign_revocation_list(l, ca).value());
  EXPECT_EQ(error_of(equal),
            "revocation list of CA mesh: serial 5 is not newer than the serial 5 held; the held list stays (lists "
            "only move forward)");
  l.serial = 4;
  l.keys = {PublicKey{1}};
  EXPECT_FALSE(trust.add_revocation_list(sign_revocation_list(l, ca).value()));
  EXPECT_EQ(trust.revocation_list(public_of(ca).fingerprint())->serial, 5u);
  EXPECT_TRUE(trust.revocation_list(public_of(ca).fingerprint())->keys.empty());
  l.serial = 6;
  EXPECT_TRUE(trust.add_revocation_list(sign_revocation_list(l, ca).value()));
  EXPECT_EQ(trust.revocation_list(public_of(ca).fingerprint())->keys.size(), 1u);

  EXPECT_NE(error_of(trust.add_revocation_list(sign_revocation_list(l, ed25519_generate()).value()))
                .find("no trusted CA has that fingerprint"),
            std::string::npos);
  auto tampered = sign_revocation_list(l, ca).value();
  tampered.encoded[40] ^= 1;  // in the serial
  EXPECT_NE(error_of(trust.add_revocation_list(decode_revocation_list(tampered.encoded).value()))
                .find("the signature does not verify"),
            std::string::npos);
}

TEST(TrustStore, VerdictNames) {
  EXPECT_STREQ(cert_verdict_name(CertVerdict::kValid), "valid");
  EXPECT_STREQ(cert_verdict_name(CertVerdict::kUnknownIssuer), "unknown_issuer");
  EXPECT_STREQ(cert_verdict_name(CertVerdict::kBadSignature), "bad_signature");
  EXPECT_STREQ(cert_verdict_name(CertVerdict::kNotYetValid), "not_yet_valid");
  EXPECT_STREQ(cert_verdict_name(CertVerdict::kExpired), "expired");
  EXPECT_STREQ(cert_verdict_name(CertVerdict::kRevoked), "revoked");
  EXPECT_STREQ(cert_verdict_name(CertVerdict::kKeyMismatch), "key_mismatch");
}

// --- Revocation list encoding --------------------------------------------------------

TEST(RevocationList, SigningSortsAndDeduplicates) {
  auto ca = ed25519_generate();
  RevocationList l;
  l.certificates = {Digest32{9}, Digest32{3}, Digest32{9}};
  l.keys = {PublicKey{7}, PublicKey{1}};
  auto s = sign_revocation_list(l, ca).value();
  EXPECT_EQ(s.certificates, (std::vector<Digest32>{Digest32{3}, Digest32{9}}));
  EXPECT_EQ(s.keys, (std::vector<PublicKey>{PublicKey{1}, PublicKey{7}}));
  EXPECT_EQ(s.encoded.size(), 56u + 4 * 33 + 64);
  EXPECT_EQ(s.issuer, public_of(ca).fingerprint());
  auto d = decode_revocation_list(s.encoded).value();
  EXPECT_EQ(d.encoded, s.encoded);
  EXPECT_EQ(d.certificates, s.certificates);
  EXPECT_EQ(d.keys, s.keys);
  // An empty list is a list.
  auto empty = sign_revocation_list(RevocationList{}, ca).value();
  EXPECT_EQ(empty.encoded.size(), 120u);
  EXPECT_TRUE(decode_revocation_list(empty.encoded));
}

TEST(RevocationList, EveryTruncationAndBitFlipRefused) {
  Bytes full = hex(vectors()["revocation_list"]["encoded"]);
  CaPublicKey ca = public_of(vector_ca());
  for (size_t n = 0; n < full.size(); ++n) EXPECT_FALSE(decode_revocation_list(ByteSpan(full.data(), n))) << n;
  for (size_t bit = 0; bit < full.size() * 8; ++bit) {
    Bytes flipped = full;
    flipped[bit / 8] ^= uint8_t(1u << (bit % 8));
    auto r = decode_revocation_list(flipped);
    if (r) {
      EXPECT_FALSE(revocation_list_signed_by(*r, ca)) << "bit " << bit;
    }
  }
}

TEST(RevocationList, DecodeRefusesUnsortedDuplicatesAndBadLengths) {
  Bytes good = hex(vectors()["revocation_list"]["encoded"]);  // 4 entries from byte 56
  auto entry = [&](size_t i) { return Bytes(good.begin() + long(56 + 33 * i), good.begin() + long(56 + 33 * (i + 1))); };
  Bytes swapped = splice(good, 56, 66, [&] {
    Bytes b = entry(1);
    Bytes a = entry(0);
    b.insert(b.end(), a.begin(), a.end());
    return b;
  }());
  EXPECT_EQ(error_of(decode_revocation_list(swapped)),
            "revocation list byte 89 (entries[1]): not after entries[0]: entries are sorted by (kind, value) and "
            "none is repeated");
  Bytes repeated = splice(good, 89, 33, entry(0));
  EXPECT_NE(error_of(decode_revocation_list(repeated)).find("byte 89 (entries[1])"), std::string::npos);
  Bytes key_first = splice(good, 56, 33, entry(3));  // a kind 2 before kind 1 entries
  EXPECT_NE(error_of(decode_revocation_list(key_first)).find("(entries[1])"), std::string::npos);
  Bytes kind3 = good;
  kind3[56 + 33 * 3] = 3;
  EXPECT_NE(error_of(decode_revocation_list(kind3)).find("byte 155 (entries[3] kind): 3 is neither"), std::string::npos);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_NE(error_of(decode_revocation_list(longer)).find("byte 52 (count): 4 entries make a list of 252 bytes, but it has 253 (bytes after the signature)"),
            std::string::npos);
  Bytes huge = good;
  store_be32(huge.data() + 52, 0xffffffff);
  EXPECT_NE(error_of(decode_revocation_list(huge)).find("(cut short?)"), std::string::npos);
  Bytes v2 = good;
  v2[3] = 2;
  EXPECT_NE(error_of(decode_revocation_list(v2)).find("byte 3 (version)"), std::string::npos);
}

// --- Armour ------------------------------------------------------------------

TEST(Armor, RoundTripEverySize) {
  for (size_t n = 1; n < 200; ++n) {
    Bytes data(n);
    for (size_t i = 0; i < n; ++i) data[i] = uint8_t(i * 7 + n);
    std::string text = armor(ARMOR_CERTIFICATE, data);
    auto back = dearmor(ARMOR_CERTIFICATE, text);
    ASSERT_TRUE(back) << n << ": " << back.message();
    EXPECT_EQ(*back, data) << n;
  }
}

TEST(Armor, ToleratesTextAroundAndOtherBlocksAndCrlf) {
  Bytes data = hex(vectors()["certificates"][1]["encoded"]);
  std::string text = "# node beta, signed 2026-11-18\n\n" + armor(ARMOR_CA_PUBLIC_KEY, Bytes{1, 2, 3}) + "  " +
                     armor(ARMOR_CERTIFICATE, data) + "trailing comment\n";
  auto back = dearmor(ARMOR_CERTIFICATE, text);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(*back, data);
  std::string crlf;
  for (char c : armor(ARMOR_CERTIFICATE, data)) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(dearmor(ARMOR_CERTIFICATE, crlf).value(), data);
  // No final newline.
  std::string bare = armor(ARMOR_CERTIFICATE, data);
  bare.pop_back();
  EXPECT_EQ(dearmor(ARMOR_CERTIFICATE, bare).value(), data);
}

TEST(Armor, DamagedBlocksNameTheLine) {
  Bytes data = hex(vectors()["certificates"][0]["encoded"]);  // 213 bytes: 5 lines, the last short
  std::string good = "comment\n" + armor(ARMOR_CERTIFICATE, data);
  auto lines_of = [](const std::string& t) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < t.size()) {
      size_t nl = t.find('\n', pos);
      out.push_back(t.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return out;
  };
  auto join = [](const std::vector<std::string>& lines) {
    std::string t;
    for (const auto& l : lines) t += l + "\n";
    return t;
  };
  auto lines = lines_of(good);
  ASSERT_EQ(lines.size(), 8u);  // comment, BEGIN, 5 base64, END
  auto damaged = [&](size_t index, const std::string& replacement) {
    auto l = lines;
    l[index] = replacement;
    return error_of(dearmor(ARMOR_CERTIFICATE, join(l)));
  };
  EXPECT_EQ(damaged(3, lines[3].substr(1)), "line 4: 63 characters; every line but the last holds 64");
  EXPECT_EQ(damaged(4, "!" + lines[4].substr(1)), "line 5: \"!\" at column 1 is not base64");
  EXPECT_EQ(damaged(2, ""), "line 3: an empty line inside the block");
  EXPECT_EQ(damaged(6, lines[6] + "="), "line 7: " + std::to_string(lines[6].size() + 1) +
                                            " characters, not a multiple of 4 (a character lost?)");
  EXPECT_EQ(damaged(7, "-----END ZEQVPN CA PUBLIC KEY-----"),
            "line 8: \"-----END ZEQVPN CA PUBLIC KEY-----\" inside the ZEQVPN CERTIFICATE block of line 2; expected "
            "-----END ZEQVPN CERTIFICATE-----");
  EXPECT_EQ(damaged(7, "the rest is lost"),
            "line 8: the ZEQVPN CERTIFICATE block of line 2 has no -----END ZEQVPN CERTIFICATE----- line (the text is "
            "cut short)");
  EXPECT_EQ(damaged(3, std::string(60, 'A') + "AA=="), "line 4: '=' padding where none may be");
  // A last line whose final character carries bits no encoder writes: 211
  // bytes end in one byte ("XY=="), so Y's low 4 bits must be 0.
  auto odd = lines_of(armor(ARMOR_CERTIFICATE, ByteSpan(data.data(), 211)));
  std::string& last = odd[5];  // BEGIN, 5 base64 lines, END
  ASSERT_EQ(last.substr(last.size() - 2), "==");
  last[last.size() - 3] = last[last.size() - 3] == 'B' ? 'C' : 'B';
  EXPECT_EQ(error_of(dearmor(ARMOR_CERTIFICATE, join(odd))),
            "line 6: not valid base64 (its last characters carry bits that no encoder writes)");
  EXPECT_EQ(error_of(dearmor(ARMOR_CERTIFICATE, "nothing here\n")),
            "no -----BEGIN ZEQVPN CERTIFICATE----- line; give a file with a ZEQVPN CERTIFICATE");
  EXPECT_EQ(error_of(dearmor(ARMOR_CERTIFICATE, armor(ARMOR_REVOCATION_LIST, data))),
            "no -----BEGIN ZEQVPN CERTIFICATE----- line (there is a BEGIN ZEQVPN REVOCATION LIST----- block instead); "
            "give a file with a ZEQVPN CERTIFICATE");
  EXPECT_EQ(error_of(dearmor(ARMOR_CERTIFICATE, "-----BEGIN ZEQVPN CERTIFICATE-----\n-----END ZEQVPN CERTIFICATE-----\n")),
            "line 2: the ZEQVPN CERTIFICATE block is empty");
}

TEST(Armor, EverySingleCharacterChangeIsRefusedOrChangesTheBytes) {
  Bytes data = hex(vectors()["certificates"][0]["encoded"]);
  std::string text = armor(ARMOR_CERTIFICATE, data);
  size_t body_start = text.find('\n') + 1, body_end = text.rfind("-----END");
  for (size_t i = body_start; i < body_end; ++i) {
    if (text[i] == '\n') continue;
    std::string t = text;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    auto r = dearmor(ARMOR_CERTIFICATE, t);
    if (r) {
      EXPECT_NE(*r, data) << i;
    }
  }
}

// --- CA keys -----------------------------------------------------------------------

TEST(CaKeys, EncodingsRoundTripAndRefuseDamage) {
  CaPrivateKey ca{"office.ca", ed25519_generate()};
  Bytes priv = encode_ca_private_key(ca);
  auto back = decode_ca_private_key(priv);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->key.public_key, ca.key.public_key);
  EXPECT_EQ(back->public_key().fingerprint(), ca.public_key().fingerprint());
  auto pub = decode_ca_public_key(encode_ca_public_key(ca.public_key()));
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->name, "office.ca");
  EXPECT_EQ(pub->key, ca.key.public_key);
  for (size_t n = 0; n < priv.size(); ++n) EXPECT_FALSE(decode_ca_private_key(ByteSpan(priv.data(), n))) << n;
  Bytes longer = priv;
  longer.push_back(0);
  EXPECT_NE(error_of(decode_ca_private_key(longer)).find("CA private key byte 43 (key): 44 bytes in all where the name's length says 43"),
            std::string::npos);
  Bytes v2 = priv;
  v2[0] = 2;
  EXPECT_EQ(error_of(decode_ca_public_key(v2)), "CA public key byte 0 (version): version 2; this zeqvpn reads version 1");
  Bytes bad_name = priv;
  bad_name[2] = '/';
  EXPECT_NE(error_of(decode_ca_public_key(bad_name)).find("CA public key byte 2 (name): \"/ffice.ca\""), std::string::npos);
  secure_wipe(priv.data(), priv.size());
}

}  // namespace zeq
