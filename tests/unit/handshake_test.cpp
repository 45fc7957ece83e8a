#include <gtest/gtest.h>

#include "core/constants.hpp"
#include "crypto/random.hpp"
#include "protocol/handshake.hpp"
#include "protocol/handshake_replay_guard.hpp"
#include "identity/zid.hpp"
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
