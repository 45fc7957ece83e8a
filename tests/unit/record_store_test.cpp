// The record store (directory/record_store.hpp): each rejection reason at
// its boundary, in the order the checks are made, revocation lists that drop
// held records, the store's bound, expiry, and the digest of
// tests/data/record_vectors.py. A refused record must change nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/bytes.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/x25519.hpp"
#include "directory/record_store.hpp"
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


using test::DirectoryNode;
using test::make_node;
using test::node_record;
using test::record_of;
using test::vector_ca;
using TestNode = DirectoryNode;
constexpr uint64_t NOW = test::DIRECTORY_NOW;

Bytes list_record(RevocationList list, const Ed25519Keypair& ca) {
  return revocation_list_record(sign_revocation_list(std::move(list), ca).value()).value().encoded;
}

std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

class RecordStoreTest : public ::testing::Test {
 protected:
  RecordStoreTest() { trust.add_ca(CaPublicKey{"vector-ca", ca.public_key}); }

  OfferVerdict offer(const Bytes& bytes, uint64_t now = NOW) { return store.offer(bytes, now, "peer").verdict; }

  Ed25519Keypair ca = vector_ca();
  TrustStore trust;
  RecordStore store{trust};
};

// Offers `bytes`, expects `want`, and that nothing held changed.
#define EXPECT_REFUSED_UNCHANGED(bytes, now, want)                      \
  do {                                                                   \
    const Digest32 before = store.digest_hash();                         \
    EXPECT_EQ(offer_verdict_name(offer(bytes, now)), offer_verdict_name(want)); \
    EXPECT_EQ(store.digest_hash(), before);                              \
  } while (0)

}  // namespace

// --- Vectors ----------------------------------------------------------------------

TEST_F(RecordStoreTest, VectorRecordsAcceptedThenDroppedByTheVectorList) {
  const auto& v = records();
  const uint64_t now = v["node_records"][2]["made_z"];
  const Bytes r0 = hex(v["node_records"][0]["encoded"]), r1 = hex(v["node_records"][1]["encoded"]),
              r2 = hex(v["node_records"][2]["encoded"]);
  const std::string alpha = v["node_records"][0]["zid"], relay = v["node_records"][1]["zid"];
  EXPECT_EQ(to_hex(store.digest_hash()), v["digests"][2]["hash"]);
  EXPECT_EQ(offer(r0, now), OfferVerdict::kAccepted);
  EXPECT_EQ(offer(r1, now), OfferVerdict::kAccepted);
  EXPECT_EQ(store.digest(), (std::vector<std::pair<std::string, uint64_t>>{{alpha, 1}, {relay, 1234567890123}}));
  EXPECT_EQ(to_hex(store.digest_hash()), v["digests"][0]["hash"]);
  EXPECT_EQ(offer(r2, now), OfferVerdict::kAccepted);  // alpha, sequence 2
  EXPECT_EQ(store.find(alpha)->record.node.sequence, 2u);
  EXPECT_EQ(offer(r0, now), OfferVerdict::kRolledBack);

  // The list revokes alpha by its key and relay-1 by its fingerprint.
  auto outcome = store.offer(hex(v["revocation_list_record"]["encoded"]), now, "peer");
  EXPECT_EQ(outcome.verdict, OfferVerdict::kAccepted);
  EXPECT_EQ(outcome.dropped, (std::vector<std::string>{alpha, relay}));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(to_hex(store.digest_hash()), v["digests"][1]["hash"]);
  EXPECT_EQ(store.dropped_count(OfferVerdict::kRevoked), 2u);
  EXPECT_EQ(offer(r2, now), OfferVerdict::kRevoked);  // by key
  EXPECT_EQ(offer(r1, now), OfferVerdict::kRevoked);  // by fingerprint
  EXPECT_EQ(store.count(OfferVerdict::kAccepted), 4u);
  EXPECT_EQ(store.count(OfferVerdict::kRevoked), 2u);
  EXPECT_EQ(store.count(OfferVerdict::kRolledBack), 1u);
}

TEST_F(RecordStoreTest, KeepsSourceAndReceptionZeqond) {
  const TestNode a = make_node(ca);
  EXPECT_EQ(store.offer(record_of(a, 1), NOW + 3, "zeq-0123456789ab").verdict, OfferVerdict::kAccepted);
  const HeldRecord* held = store.find(a.zid());
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->source, "zeq-0123456789ab");
  EXPECT_EQ(held->received_z, NOW + 3);
  EXPECT_EQ(held->record.node.certificate.encoded, a.cert.encoded);
  EXPECT_EQ(store.find("zeq-000000000000"), nullptr);
}

// --- The certificate ----------------------------------------------------------------

TEST_F(RecordStoreTest, CertificateFromAnUntrustedCa) {
  const auto other_ca = ed25519_generate();
  const TestNode stranger = make_node(other_ca);
  EXPECT_REFUSED_UNCHANGED(record_of(stranger, 1), NOW, OfferVerdict::kUnknownIssuer);
  trust.add_ca(CaPublicKey{"other", other_ca.public_key});
  EXPECT_EQ(offer(record_of(stranger, 1)), OfferVerdict::kAccepted);
}

TEST_F(RecordStoreTest, CertificateNotSignedByItsCa) {
  TestNode forged = make_node(ca);
  Bytes cert_bytes = forged.cert.encoded;
  cert_bytes.back() ^= 0x01;  // the CA's signature
  forged.cert = decode_certificate(cert_bytes).value();
  // The node signs the record properly: only the certificate is false.
  EXPECT_REFUSED_UNCHANGED(record_of(forged, 1), NOW, OfferVerdict::kBadCertificateSignature);
}

TEST_F(RecordStoreTest, CertificateDatesAtTheirEdges) {
  const TestNode a = make_node(ca, 1000, 2000);
  EXPECT_REFUSED_UNCHANGED(record_of(a, 1, 999), 999, OfferVerdict::kCertificateNotYetValid);
  EXPECT_REFUSED_UNCHANGED(record_of(a, 1, 2000), 2000, OfferVerdict::kCertificateExpired);
  EXPECT_NE(store.offer(record_of(a, 1, 2000), 2000, "peer").detail.find("certificate expired at Zeqond 2000"),
            std::string::npos);
  EXPECT_EQ(offer(record_of(a, 1, 1000), 1000), OfferVerdict::kAccepted);
  EXPECT_EQ(offer(record_of(a, 2, 1999), 1999), OfferVerdict::kAccepted);
}

TEST_F(RecordStoreTest, RevokedByFingerprintAndByKey) {
  const TestNode by_fingerprint = make_node(ca), by_key = make_node(ca), fine = make_node(ca);
  RevocationList list;
  list.serial = 1;
  list.certificates = {by_fingerprint.cert.fingerprint()};
  list.keys = {by_key.x25519.public_key};
  ASSERT_TRUE(trust.add_revocation_list(sign_revocation_list(list, ca).value()));
  EXPECT_REFUSED_UNCHANGED(record_of(by_fingerprint, 1), NOW, OfferVerdict::kRevoked);
  EXPECT_REFUSED_UNCHANGED(record_of(by_key, 1), NOW, OfferVerdict::kRevoked);
  EXPECT_EQ(offer(record_of(fine, 1)), OfferVerdict::kAccepted);
}

// --- The record's own signature -------------------------------------------------------

TEST_F(RecordStoreTest, RecordSignedByAnotherNodesKey) {
  const TestNode a = make_node(ca), b = make_node(ca);
  // A's certificate, signed by B (a valid member forging for another).
  Bytes forged = record_of(a, 1);
  const ByteSpan body(forged.data(), forged.size() - 64);
  const auto sig = ed25519_sign(b.signing, {as_bytes("zeqvpn/record/v1"), body});
  std::copy(sig.begin(), sig.end(), forged.end() - 64);
  EXPECT_REFUSED_UNCHANGED(forged, NOW, OfferVerdict::kBadRecordSignature);
  // Signed under another domain string: refused as well.
  Bytes other_domain = record_of(a, 1);
  const auto sig2 = ed25519_sign(a.signing, {as_bytes("zeqvpn/cert/v1"), ByteSpan(other_domain.data(), other_domain.size() - 64)});
  std::copy(sig2.begin(), sig2.end(), other_domain.end() - 64);
  EXPECT_REFUSED_UNCHANGED(other_domain, NOW, OfferVerdict::kBadRecordSignature);
  EXPECT_EQ(offer(record_of(a, 1)), OfferVerdict::kAccepted);
}

// --- The window around now ---------------------------------------------------------------

TEST_F(RecordStoreTest, MadeWithinThirtyZeqondsAhead) {
  const TestNode a = make_node(ca), b = make_node(ca);
  EXPECT_REFUSED_UNCHANGED(record_of(a, 1, NOW + 31), NOW, OfferVerdict::kFromTheFuture);
  EXPECT_EQ(offer(record_of(a, 1, NOW + 30)), OfferVerdict::kAccepted);
  EXPECT_REFUSED_UNCHANGED(record_of(b, 1, UINT64_MAX), NOW, OfferVerdict::kFromTheFuture);
  // A clock 90 Zeqonds off is named as such.
  auto outcome = store.offer(record_of(b, 1, NOW + 90), NOW, "peer");
  EXPECT_EQ(outcome.detail, "record of " + b.zid() + " (" + b.cert.body.name + "): made at Zeqond " +
                                std::to_string(NOW + 90) + ", 90 ahead of this node's clock (at most 30; is either "
                                "clock wrong?)");
}

TEST_F(RecordStoreTest, MadeAtMostADayAgo) {
  EXPECT_EQ(RECORD_MAX_AGE_Z, 111'197u);  // 86 400 s / 0.777 s, rounded up
  const TestNode a = make_node(ca);
  EXPECT_REFUSED_UNCHANGED(record_of(a, 1, NOW - RECORD_MAX_AGE_Z - 1), NOW, OfferVerdict::kTooOld);
  EXPECT_EQ(offer(record_of(a, 1, NOW - RECORD_MAX_AGE_Z)), OfferVerdict::kAccepted);
  // Early in time (now below a day) nothing is too old.
  const TestNode early = make_node(ca, 0, 1'000'000);
  EXPECT_EQ(offer(record_of(early, 1, 0), 1000), OfferVerdict::kAccepted);
}

// --- Sequence ------------------------------------------------------------------------------

TEST_F(RecordStoreTest, SequenceEqualLowerHigher) {
  const TestNode a = make_node(ca);
  const Bytes five = record_of(a, 5, NOW);
  EXPECT_EQ(offer(five), OfferVerdict::kAccepted);
  EXPECT_REFUSED_UNCHANGED(record_of(a, 4, NOW + 1), NOW + 1, OfferVerdict::kRolledBack);
  EXPECT_REFUSED_UNCHANGED(five, NOW + 1, OfferVerdict::kReplayed);
  EXPECT_REFUSED_UNCHANGED(record_of(a, 5, NOW + 1), NOW + 1, OfferVerdict::kConflict);
  EXPECT_REFUSED_UNCHANGED(record_of(a, 5, NOW, 4000), NOW + 1, OfferVerdict::kConflict);
  EXPECT_EQ(store.find(a.zid())->record.encoded, five);
  const Bytes six = record_of(a, 6, NOW + 1, 4000);
  EXPECT_EQ(offer(six, NOW + 1), OfferVerdict::kAccepted);
  EXPECT_EQ(store.find(a.zid())->record.encoded, six);
  EXPECT_EQ(store.find(a.zid())->record.node.endpoints[0].port, 4000);
  EXPECT_EQ(store.digest(), (std::vector<std::pair<std::string, uint64_t>>{{a.zid(), 6}}));
  EXPECT_EQ(store.count(OfferVerdict::kReplayed), 1u);
  EXPECT_EQ(store.count(OfferVerdict::kConflict), 2u);
  EXPECT_EQ(store.count(OfferVerdict::kRolledBack), 1u);
}

TEST_F(RecordStoreTest, ChecksComeInTheirOrder) {
  // Everything wrong at once: the first check that fails is the verdict.
  const TestNode a = make_node(ca, 1000, 2000);
  EXPECT_EQ(offer(record_of(a, 2, 1500), 1500), OfferVerdict::kAccepted);
  Bytes bad_sig = record_of(a, 1, 5000);  // expired at 3000, bad signature, too far ahead, rolled back
  bad_sig.back() ^= 1;
  EXPECT_EQ(offer(bad_sig, 3000), OfferVerdict::kCertificateExpired);
  EXPECT_EQ(offer(bad_sig, 1500), OfferVerdict::kBadRecordSignature);
  EXPECT_EQ(offer(record_of(a, 1, 5000), 1500), OfferVerdict::kFromTheFuture);
  EXPECT_EQ(offer(record_of(a, 1, 1500), 1500), OfferVerdict::kRolledBack);
}

// --- Damage: forged, truncated, flipped ----------------------------------------------------

TEST_F(RecordStoreTest, TruncatedOrFlippedRecordsChangeNothing) {
  const TestNode a = make_node(ca), b = make_node(ca);
  ASSERT_EQ(offer(record_of(a, 1)), OfferVerdict::kAccepted);
  const Bytes good = record_of(b, 7);
  const Digest32 before = store.digest_hash();
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_EQ(offer(Bytes(good.begin(), good.begin() + long(n))), OfferVerdict::kMalformed) << n;
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    Bytes bad = good;
    bad[bit / 8] ^= uint8_t(1 << (bit % 8));
    EXPECT_NE(offer(bad), OfferVerdict::kAccepted) << "bit " << bit;
  }
  EXPECT_EQ(store.digest_hash(), before);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.count(OfferVerdict::kAccepted), 1u);
  EXPECT_EQ(store.count(OfferVerdict::kMalformed) >= good.size(), true);
  auto outcome = store.offer(Bytes(good.begin(), good.end() - 1), NOW, "peer");
  EXPECT_EQ(outcome.verdict, OfferVerdict::kMalformed);
  EXPECT_NE(outcome.detail.find("(signature): the record ends after"), std::string::npos) << outcome.detail;
  EXPECT_EQ(offer(good), OfferVerdict::kAccepted);
}

// --- Revocation list records ----------------------------------------------------------------

TEST_F(RecordStoreTest, NewerListDropsTheRecordsItRevokes) {
  const TestNode a = make_node(ca), b = make_node(ca), c = make_node(ca);
  for (const TestNode* n : {&a, &b, &c}) ASSERT_EQ(offer(record_of(*n, 1)), OfferVerdict::kAccepted);
  RevocationList list;
  list.serial = 1;
  list.certificates = {a.cert.fingerprint()};
  list.keys = {b.x25519.public_key};
  auto outcome = store.offer(list_record(list, ca), NOW, "peer");
  EXPECT_EQ(outcome.verdict, OfferVerdict::kAccepted);
  EXPECT_EQ(as_set(outcome.dropped), (std::set<std::string>{a.zid(), b.zid()}));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_NE(store.find(c.zid()), nullptr);
  const Digest32 issuer = sha256(ca.public_key);
  ASSERT_NE(trust.revocation_list(issuer), nullptr);
  EXPECT_EQ(trust.revocation_list(issuer)->serial, 1u);
  EXPECT_EQ(store.revocation_digest(), (std::vector<std::pair<Digest32, uint64_t>>{{issuer, 1}}));
  EXPECT_EQ(store.dropped_count(OfferVerdict::kRevoked), 2u);
  EXPECT_EQ(offer(record_of(a, 2)), OfferVerdict::kRevoked);
  EXPECT_EQ(offer(record_of(b, 2)), OfferVerdict::kRevoked);
}

TEST_F(RecordStoreTest, OlderEqualForeignOrForgedListsAreRefused) {
  RevocationList list;
  list.serial = 5;
  list.keys = {PublicKey{1}};
  ASSERT_EQ(offer(list_record(list, ca)), OfferVerdict::kAccepted);
  const Digest32 issuer = sha256(ca.public_key);

  list.serial = 4;
  EXPECT_REFUSED_UNCHANGED(list_record(list, ca), NOW, OfferVerdict::kNotNewer);
  list.serial = 5;
  list.keys = {PublicKey{2}};  // another list with the held serial
  EXPECT_REFUSED_UNCHANGED(list_record(list, ca), NOW, OfferVerdict::kNotNewer);
  EXPECT_EQ(trust.revocation_list(issuer)->keys, std::vector<PublicKey>{PublicKey{1}});

  list.serial = 9;
  EXPECT_REFUSED_UNCHANGED(list_record(list, ed25519_generate()), NOW, OfferVerdict::kUnknownIssuer);
  Bytes forged = list_record(list, ca);
  forged[9 + 36 + 7] ^= 0x10;  // the list's serial: 9 becomes 25, the CA's signature no longer holds
  EXPECT_REFUSED_UNCHANGED(forged, NOW, OfferVerdict::kBadRecordSignature);
  EXPECT_EQ(trust.revocation_list(issuer)->serial, 5u);

  // A list the trust store took from a file counts as held.
  list.serial = 20;
  ASSERT_TRUE(trust.add_revocation_list(sign_revocation_list(list, ca).value()));
  list.serial = 19;
  EXPECT_REFUSED_UNCHANGED(list_record(list, ca), NOW, OfferVerdict::kNotNewer);
  list.serial = 21;
  EXPECT_EQ(offer(list_record(list, ca)), OfferVerdict::kAccepted);
  EXPECT_EQ(store.count(OfferVerdict::kNotNewer), 3u);
}

// --- Bound ---------------------------------------------------------------------------------------

TEST_F(RecordStoreTest, FullStoreRefusesNewZidsOnly) {
  RecordStore small(trust, 3);
  EXPECT_EQ(small.max_records(), 3u);
  EXPECT_EQ(store.max_records(), DEFAULT_MAX_RECORDS);
  std::vector<TestNode> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(make_node(ca));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(small.offer(record_of(nodes[i], 1), NOW, "p").verdict, OfferVerdict::kAccepted);
  const Digest32 before = small.digest_hash();
  EXPECT_EQ(small.offer(record_of(nodes[3], 1), NOW, "p").verdict, OfferVerdict::kFull);
  EXPECT_EQ(small.digest_hash(), before);
  EXPECT_EQ(small.count(OfferVerdict::kFull), 1u);
  EXPECT_EQ(small.offer(record_of(nodes[0], 2), NOW, "p").verdict, OfferVerdict::kAccepted);
  EXPECT_EQ(small.size(), 3u);
  // A room freed (by expiry) takes a new ZID again.
  EXPECT_EQ(small.expire(NOW + RECORD_MAX_AGE_Z + 1).size(), 3u);
  EXPECT_EQ(small.offer(record_of(nodes[3], 1, NOW + RECORD_MAX_AGE_Z), NOW + RECORD_MAX_AGE_Z + 1, "p").verdict,
            OfferVerdict::kAccepted);
}

// --- Expiry ------------------------------------------------------------------------------------------

TEST_F(RecordStoreTest, ExpireDropsTooOldExpiredAndNewlyRevoked) {
  const TestNode old_record = make_node(ca, 1000, 1'000'000);
  const TestNode short_cert = make_node(ca, 1000, 450'000);
  const TestNode revoked_later = make_node(ca);
  ASSERT_EQ(offer(record_of(old_record, 1, 400'000), 400'000), OfferVerdict::kAccepted);
  ASSERT_EQ(offer(record_of(short_cert, 1, 440'000), 440'000), OfferVerdict::kAccepted);
  ASSERT_EQ(offer(record_of(revoked_later, 1, 440'000), 440'000), OfferVerdict::kAccepted);

  EXPECT_TRUE(store.expire(449'999).empty());
  EXPECT_EQ(store.expire(450'000), std::vector<std::string>{short_cert.zid()});
  EXPECT_TRUE(store.expire(400'000 + RECORD_MAX_AGE_Z).empty());
  // Revoked through the trust store directly (a list from a file, a reload).
  RevocationList list;
  list.serial = 1;
  list.keys = {revoked_later.x25519.public_key};
  ASSERT_TRUE(trust.add_revocation_list(sign_revocation_list(list, ca).value()));
  EXPECT_EQ(as_set(store.expire(400'000 + RECORD_MAX_AGE_Z + 1)),
            (std::set<std::string>{old_record.zid(), revoked_later.zid()}));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.dropped_count(OfferVerdict::kCertificateExpired), 1u);
  EXPECT_EQ(store.dropped_count(OfferVerdict::kTooOld), 1u);
  EXPECT_EQ(store.dropped_count(OfferVerdict::kRevoked), 1u);
}

TEST_F(RecordStoreTest, ExpireDropsRecordsOfACaNoLongerTrusted) {
  const auto other_ca = ed25519_generate();
  trust.add_ca(CaPublicKey{"other", other_ca.public_key});
  const TestNode a = make_node(other_ca);
  ASSERT_EQ(offer(record_of(a, 1)), OfferVerdict::kAccepted);
  TrustStore fresh;  // a reload that dropped the other CA
  fresh.add_ca(CaPublicKey{"vector-ca", ca.public_key});
  trust = fresh;
  EXPECT_EQ(store.expire(NOW), std::vector<std::string>{a.zid()});
  EXPECT_EQ(store.dropped_count(OfferVerdict::kUnknownIssuer), 1u);
}

TEST(OfferVerdicts, NamesAreDistinct) {
  std::set<std::string> names;
  for (size_t i = 0; i < OFFER_VERDICT_COUNT; ++i) names.insert(offer_verdict_name(OfferVerdict(i)));
  EXPECT_EQ(names.size(), OFFER_VERDICT_COUNT);
  EXPECT_STREQ(offer_verdict_name(OfferVerdict::kFromTheFuture), "from_the_future");
  EXPECT_STREQ(offer_verdict_name(OfferVerdict::kBadCertificateSignature), "bad_certificate_signature");
  EXPECT_STREQ(offer_verdict_name(OfferVerdict::kNotNewer), "not_newer");
}

}  // namespace zeq
