#include <gtest/gtest.h>

#include "core/constants.hpp"
#include "crypto/random.hpp"
#include "protocol/handshake.hpp"
#include "protocol/handshake_extensions.hpp"
#include "protocol/handshake_replay_guard.hpp"
#include "identity/zid.hpp"
#include <algorithm>
#include <cstring>

namespace zeq {

namespace {
SystemRandom random_;

LocalIdentity make_identity() {
  LocalIdentity id;
  id.keypair = x25519_generate();
  id.zid = zid_from_public_key(id.keypair.public_key);
  return id;
}
}  // namespace

TEST(Handshake, RandomExchangeAgreesOnKeys) {
  auto a = make_identity(), b = make_identity();
  Bytes mesh(32, 7);
  std::array<uint8_t, wire::INIT_SIZE> m1{};
  auto hs = InitiatorHandshake::start(a, {b.zid, b.keypair.public_key}, mesh, 100, HandshakeRandomness::draw(random_, 1), m1);
  ASSERT_TRUE(hs);
  ReceivedInitiation r;
  ASSERT_EQ(read_initiation(b, mac1_key_for(b.keypair.public_key), m1, r), HandshakeReject::kNone);
  std::array<uint8_t, wire::RESPONSE_SIZE> m2{};
  SessionKeys kb, ka;
  ASSERT_TRUE(write_response(r, b, mesh, 101, HandshakeRandomness::draw(random_, 2), m2, kb));
  ASSERT_EQ(hs->finish(m2, 100, mesh, ka), HandshakeReject::kNone);
  EXPECT_EQ(0, memcmp(ka.send_key.data(), kb.recv_key.data(), 32));
  EXPECT_EQ(0, memcmp(ka.recv_key.data(), kb.send_key.data(), 32));
  EXPECT_NE(0, memcmp(ka.send_key.data(), ka.recv_key.data(), 32));
}

TEST(Handshake, WrongMeshSecretNeverYieldsKeys) {
  auto a = make_identity(), b = make_identity();
  Bytes mesh_a(32, 7), mesh_b(32, 8);
  std::array<uint8_t, wire::INIT_SIZE> m1{};
  auto hs = InitiatorHandshake::start(a, {b.zid, b.keypair.public_key}, mesh_a, 100, HandshakeRandomness::draw(random_, 1), m1);
  ReceivedInitiation r;
  ASSERT_EQ(read_initiation(b, mac1_key_for(b.keypair.public_key), m1, r), HandshakeReject::kNone);
  std::array<uint8_t, wire::RESPONSE_SIZE> m2{};
  SessionKeys kb, ka;
  ASSERT_TRUE(write_response(r, b, mesh_b, 100, HandshakeRandomness::draw(random_, 2), m2, kb));
  EXPECT_EQ(hs->finish(m2, 100, mesh_a, ka), HandshakeReject::kBadNoise);
}

TEST(Handshake, ResponseFromWrongResponderOrClockIsRejected) {
  auto a = make_identity(), b = make_identity();
  Bytes mesh(32, 7);
  std::array<uint8_t, wire::INIT_SIZE> m1{};
  auto hs = InitiatorHandshake::start(a, {b.zid, b.keypair.public_key}, mesh, 100, HandshakeRandomness::draw(random_, 1), m1);
  ReceivedInitiation r;
  ASSERT_EQ(read_initiation(b, mac1_key_for(b.keypair.public_key), m1, r), HandshakeReject::kNone);
  std::array<uint8_t, wire::RESPONSE_SIZE> m2{};
  SessionKeys k;
  ASSERT_TRUE(write_response(r, b, mesh, 103, HandshakeRandomness::draw(random_, 2), m2, k));
  EXPECT_EQ(hs->finish(m2, 100, mesh, k), HandshakeReject::kClockDrift);
}

TEST(Handshake, InitiationToSomeoneElseFailsMac1) {
  auto a = make_identity(), b = make_identity(), c = make_identity();
  Bytes mesh(32, 7);
  std::array<uint8_t, wire::INIT_SIZE> m1{};
  InitiatorHandshake::start(a, {b.zid, b.keypair.public_key}, mesh, 100, HandshakeRandomness::draw(random_, 1), m1);
  ReceivedInitiation r;
  EXPECT_EQ(read_initiation(c, mac1_key_for(c.keypair.public_key), m1, r), HandshakeReject::kBadMac1);
}

// Extensions (docs/protocol.md, "Handshake extensions"): carried inside the
// Noise payload both ways, the header says how long they are, and the keys
// agree as without them.
TEST(HandshakeExtensions, TravelBothWaysAndKeysAgree) {
  auto a = make_identity(), b = make_identity();
  Bytes mesh(32, 7);
  HandshakeExtensions mine;
  mine.certificate = Bytes(300, 0xab);
  const Bytes ext_a = encode_extensions(mine);
  ASSERT_EQ(ext_a.size(), 303u);
  Bytes m1(initiation_size(ext_a.size()));
  auto hs = InitiatorHandshake::start(a, {b.zid, b.keypair.public_key}, mesh, 100, HandshakeRandomness::draw(random_, 1),
                                      ext_a, m1);
  ASSERT_TRUE(hs);
  EXPECT_TRUE(hs->sent_extensions());
  EXPECT_EQ(m1[wire::HEADER_FLAGS_OFFSET], wire::EXTENSIONS_FLAG);
  EXPECT_EQ(load_be16(m1.data() + wire::HEADER_EXTENSIONS_LENGTH_OFFSET), 303);
  // The certificate is not readable on the wire.
  EXPECT_EQ(std::search(m1.begin(), m1.end(), mine.certificate.begin(), mine.certificate.begin() + 32), m1.end());
  ReceivedInitiation r;
  ASSERT_EQ(read_initiation(b, mac1_key_for(b.keypair.public_key), m1, r), HandshakeReject::kNone);
  EXPECT_TRUE(r.had_extensions);
  auto got = decode_extensions(r.extensions);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->certificate, mine.certificate);

  HandshakeExtensions theirs;
  theirs.certificate = Bytes(40, 0x5c);
  const Bytes ext_b = encode_extensions(theirs);
  Bytes m2(response_size(ext_b.size()));
  SessionKeys kb, ka;
  ASSERT_TRUE(write_response(r, b, mesh, 101, HandshakeRandomness::draw(random_, 2), ext_b, m2, kb));
  ASSERT_EQ(hs->finish(m2, 100, mesh, ka), HandshakeReject::kNone);
  EXPECT_EQ(hs->received_extensions(), ext_b);
  EXPECT_EQ(0, memcmp(ka.send_key.data(), kb.recv_key.data(), 32));
  EXPECT_EQ(0, memcmp(ka.recv_key.data(), kb.send_key.data(), 32));
}

// Without extensions the messages are PROTOCOL.md v1: the fixed sizes and
// header bytes 1..3 zero (zeqvpn-vectors.json checks every byte).
TEST(HandshakeExtensions, NoneMeansTheV1Message) {
  auto a = make_identity(), b = make_identity();
  Bytes mesh(32, 7);
  Bytes m1(initiation_size(0));
  ASSERT_EQ(m1.size(), wire::INIT_SIZE);
  auto hs = InitiatorHandshake::start(a, {b.zid, b.keypair.public_key}, mesh, 100, HandshakeRandomness::draw(random_, 1),
                                      {}, m1);
  ASSERT_TRUE(hs);
  EXPECT_FALSE(hs->sent_extensions());
  EXPECT_EQ(m1[1] | m1[2] | m1[3], 0);
  ReceivedInitiation r;
  ASSERT_EQ(read_initiation(b, mac1_key_for(b.keypair.public_key), m1, r), HandshakeReject::kNone);
  EXPECT_FALSE(r.had_extensions);
  EXPECT_TRUE(r.extensions.empty());
}

// A header whose length does not match the message, or a tampered length
// with mac1 recomputed (mac1 needs only the public key), never gets through.
TEST(HandshakeExtensions, LengthAndNoiseMustAgree) {
  auto a = make_identity(), b = make_identity();
  Bytes mesh(32, 7);
  HandshakeExtensions mine;
  mine.certificate = Bytes(100, 1);
  const Bytes ext = encode_extensions(mine);
  Bytes m1(initiation_size(ext.size()));
  ASSERT_TRUE(InitiatorHandshake::start(a, {b.zid, b.keypair.public_key}, mesh, 100, HandshakeRandomness::draw(random_, 1),
                                        ext, m1));
  const Digest32 mac1 = mac1_key_for(b.keypair.public_key);
  ReceivedInitiation r;
  Bytes short_one(m1.begin(), m1.end() - 1);
  EXPECT_EQ(read_initiation(b, mac1, short_one, r), HandshakeReject::kBadSize);
  // Claim 10 bytes fewer and cut the message to match: Noise refuses.
  Bytes cut(m1.begin(), m1.end() - 10);
  store_be16(cut.data() + wire::HEADER_EXTENSIONS_LENGTH_OFFSET, uint16_t(ext.size() - 10));
  write_mac1(mac1, cut);
  EXPECT_EQ(read_initiation(b, mac1, cut, r), HandshakeReject::kBadNoise);
  // Too long for the protocol: refused before anything else.
  const Bytes too_long(wire::MAX_EXTENSIONS_SIZE + 1, 1);
  Bytes out(initiation_size(too_long.size()));
  EXPECT_FALSE(InitiatorHandshake::start(a, {b.zid, b.keypair.public_key}, mesh, 100,
                                         HandshakeRandomness::draw(random_, 2), too_long, out));
}

TEST(HandshakeExtensions, DecodeRefusesBrokenEntriesAndSkipsUnknownOnes) {
  EXPECT_TRUE(decode_extensions({}));
  const Bytes unknown_then_nothing = {0x7f, 0x00, 0x02, 0xaa, 0xbb};
  auto skipped = decode_extensions(unknown_then_nothing);
  ASSERT_TRUE(skipped);
  EXPECT_TRUE(skipped->certificate.empty());
  EXPECT_FALSE(decode_extensions(Bytes{0x01, 0x00}));              // header cut
  EXPECT_FALSE(decode_extensions(Bytes{0x01, 0x00, 0x03, 1, 2}));  // value cut
  EXPECT_FALSE(decode_extensions(Bytes{0x01, 0x00, 0x00}));        // empty value
  EXPECT_FALSE(decode_extensions(Bytes{0x01, 0x00, 0x01, 9, 0x01, 0x00, 0x01, 9}));  // twice
  EXPECT_FALSE(decode_extensions(Bytes{0x7f, 0x00, 0x01, 9, 0x01, 0x00, 0x01, 9}));  // out of order
}

TEST(Handshake, DriftTolerance) {
  EXPECT_TRUE(within_drift(100, 100));
  EXPECT_TRUE(within_drift(99, 100));
  EXPECT_TRUE(within_drift(101, 100));
  EXPECT_FALSE(within_drift(98, 100));
  EXPECT_FALSE(within_drift(102, 100));
}

TEST(HandshakeReplayGuard, StaleAndReplayed) {
  HandshakeReplayGuard g;
  std::array<uint8_t, 32> n1{1}, n2{2};
  EXPECT_EQ(g.check(10, n1), HandshakeReject::kNone);
  g.accept(10, n1);
  EXPECT_EQ(g.check(10, n1), HandshakeReject::kReplay);
  EXPECT_EQ(g.check(10, n2), HandshakeReject::kNone);
  EXPECT_EQ(g.check(9, n2), HandshakeReject::kStaleZeqond);
  g.accept(11, n2);
  EXPECT_EQ(g.check(10, n2), HandshakeReject::kStaleZeqond);
  EXPECT_EQ(g.check(11, n1), HandshakeReject::kNone);
  EXPECT_EQ(g.check(11, n2), HandshakeReject::kReplay);
}

}  // namespace zeq
