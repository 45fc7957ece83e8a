// The load-time handshake defence (docs/protocol.md "Cookie reply and mac2")
// on real sockets: two WorkerNodes on loopback, B put under load through its
// inbox's backlog; and the guard's and rate limiter's rules on their own.
#include <gtest/gtest.h>

#include "mesh/handshake_guard.hpp"
#include "mesh/source_rate_limiter.hpp"
#include "mesh_test_node.hpp"

namespace zeq {
namespace {

using test::fresh_identity;
using test::peer_settings_for;
using test::WorkerNode;

class HandshakeUnderLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    b_ = std::make_unique<WorkerNode>(b_id_, std::vector<PeerSettings>{peer_settings_for(a_id_, nullptr, "10.200.0.1/32")},
                                      secret_);
    std::string b_at = b_->endpoint().to_string();
    a_ = std::make_unique<WorkerNode>(a_id_, std::vector<PeerSettings>{peer_settings_for(b_id_, b_at.c_str(), "10.200.0.2/32")},
                                      secret_);
  }
  LocalIdentity a_id_ = fresh_identity(), b_id_ = fresh_identity();
  Bytes secret_ = Bytes(32, 0x42);
  std::unique_ptr<WorkerNode> b_, a_;
};

// Under load B runs no Noise for an initiation without mac2: it answers with
// a cookie; A sends the initiation again at once with mac2, which passes,
// and the tunnel comes up.
TEST_F(HandshakeUnderLoad, InitiationGetsACookieThenPassesWithMac2) {
  b_->inbox.depth = HandshakeGuard::LOAD_QUEUE_DEPTH;
  a_->sessions->start_all();
  ASSERT_EQ(b_->receive(), 1);
  EXPECT_TRUE(b_->inbox.handshakes.empty());
  EXPECT_EQ(b_->drops(Drop::kHandshakeCookie), 1u);

  ASSERT_EQ(a_->receive(), 1);  // the cookie reply
  a_->pump();
  EXPECT_EQ(a_->sessions->cookies_received(), 1u);
  ASSERT_EQ(b_->receive(), 1);  // the initiation again, with mac2
  ASSERT_EQ(b_->inbox.handshakes.size(), 1u);
  EXPECT_EQ(b_->inbox.handshakes[0].first.size(), wire::INIT_SIZE);  // mac2 stripped for the control thread
  b_->pump();
  EXPECT_EQ(b_->sessions->handshakes_answered(), 1u);
  ASSERT_GT(a_->receive(), 0);
  a_->pump();
  EXPECT_NE(a_->peer().current.load(), nullptr);
  EXPECT_EQ(b_->drops(Drop::kHandshakeCookie), 1u);
}

// A cookie reply must be for the last message A sent: one for an older
// message, or from someone who never saw A's mac1, is refused and sends
// nothing.
TEST_F(HandshakeUnderLoad, CookieReplyForAnotherMac1IsRefused) {
  a_->sessions->start_all();
  ASSERT_EQ(b_->receive(), 1);  // B not under load: answers normally; drop it
  b_->inbox.handshakes.clear();
  std::array<uint8_t, wire::COOKIE_REPLY_SIZE> forged{};
  Key32 secret(Bytes(32, 1));
  Cookie cookie = make_cookie(secret, a_->endpoint());
  Bytes wrong_mac1(16, 0x55);
  std::array<uint8_t, wire::COOKIE_NONCE_SIZE> nonce{};
  ASSERT_TRUE(write_cookie_reply(cookie_key_for(b_id_.keypair.public_key),
                                 a_->peer().pending_handshake->sender_index(), wrong_mac1, cookie, nonce, forged));
  a_->inbox.handshakes.push_back({Bytes(forged.begin(), forged.end()), b_->endpoint()});
  a_->pump();
  EXPECT_EQ(a_->sessions->cookies_received(), 0u);
  EXPECT_EQ(a_->sessions->rejects(HandshakeReject::kBadCookieReply), 1u);
  EXPECT_EQ(b_->receive(100), 0);  // A sent nothing again
}

// Once A holds a cookie, its messages carry mac2 whether or not B is under
// load, and B takes them either way.
TEST_F(HandshakeUnderLoad, Mac2IsAcceptedWhenNotUnderLoad) {
  b_->inbox.depth = HandshakeGuard::LOAD_QUEUE_DEPTH;
  a_->sessions->start_all();
  ASSERT_EQ(b_->receive(), 1);
  ASSERT_EQ(a_->receive(), 1);
  b_->inbox.depth = 0;
  a_->pump();
  ASSERT_EQ(b_->receive(), 1);
  EXPECT_EQ(b_->inbox.handshakes.size(), 1u);
}

// A cookie reply needs no mac1: one whose receiver index is no handshake of
// A's in flight is dropped by the worker and counted, never queued for the
// control thread; one for A's initiation in flight is.
TEST_F(HandshakeUnderLoad, CookieReplyForNoHandshakeInFlightNeverReachesTheControlThread) {
  auto send_reply_for = [&](uint32_t receiver_index) {
    std::array<uint8_t, wire::COOKIE_REPLY_SIZE> reply{};
    reply[0] = wire::kCookieReply;
    store_be32(reply.data() + wire::COOKIE_RECEIVER_INDEX_OFFSET, receiver_index);
    ASSERT_TRUE(b_->worker->socket().send_to(reply.data(), reply.size(), a_->endpoint()));
  };
  send_reply_for(0x12345678);
  ASSERT_EQ(a_->receive(), 1);
  EXPECT_TRUE(a_->inbox.handshakes.empty());
  EXPECT_EQ(a_->drops(Drop::kCookieReplyUnexpected), 1u);

  a_->sessions->start_all();
  const uint32_t in_flight = a_->peer().pending_handshake->sender_index();
  send_reply_for(in_flight ^ 0x10000u);  // the same slot, another index
  ASSERT_EQ(a_->receive(), 1);
  EXPECT_TRUE(a_->inbox.handshakes.empty());
  EXPECT_EQ(a_->drops(Drop::kCookieReplyUnexpected), 2u);
  send_reply_for(in_flight);
  ASSERT_EQ(a_->receive(), 1);
  EXPECT_EQ(a_->inbox.handshakes.size(), 1u);
  EXPECT_EQ(a_->drops(Drop::kCookieReplyUnexpected), 2u);
  EXPECT_EQ(a_->drops(Drop::kControlQueue), 0u);
}

const UdpEndpoint kSource = *parse_udp_endpoint("198.51.100.7:40000");
const UdpEndpoint kSourceOtherPort = *parse_udp_endpoint("198.51.100.7:40001");

TEST(SourceRateLimiter, BurstThenTheRefillRate) {
  SourceRateLimiter limiter;
  int64_t t = 1'000'000;
  for (int i = 0; i < SourceRateLimiter::BURST; ++i) EXPECT_TRUE(limiter.allow(kSource, t)) << i;
  EXPECT_FALSE(limiter.allow(kSource, t));
  EXPECT_FALSE(limiter.allow(kSourceOtherPort, t));  // one address, whatever the port
  EXPECT_TRUE(limiter.allow(*parse_udp_endpoint("198.51.100.8:40000"), t));
  t += TAU_ZQ_US / SourceRateLimiter::MESSAGES_PER_ZEQOND;
  EXPECT_TRUE(limiter.allow(kSource, t));
  EXPECT_FALSE(limiter.allow(kSource, t));
  // Over a whole Zeqond no more than the rate (plus what was left).
  int allowed = 0;
  for (int64_t step = 0; step < TAU_ZQ_US; step += 1000) allowed += limiter.allow(kSource, t + step);
  EXPECT_LE(allowed, SourceRateLimiter::MESSAGES_PER_ZEQOND + 1);
  EXPECT_GE(allowed, SourceRateLimiter::MESSAGES_PER_ZEQOND - 1);
}

TEST(SourceRateLimiter, AnIpv6SourceIsItsSlash64) {
  SourceRateLimiter limiter;
  for (int i = 0; i < SourceRateLimiter::BURST; ++i) ASSERT_TRUE(limiter.allow(*parse_udp_endpoint("[2001:db8:1:2::1]:1"), 0));
  EXPECT_FALSE(limiter.allow(*parse_udp_endpoint("[2001:db8:1:2::ffff]:9"), 0));
  EXPECT_TRUE(limiter.allow(*parse_udp_endpoint("[2001:db8:1:3::1]:1"), 0));
}

TEST(SourceRateLimiter, MemoryIsBoundedAndQuietSourcesAreForgotten) {
  SourceRateLimiter limiter;
  auto source = [](size_t i) {
    return *parse_udp_endpoint("10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
                               std::to_string(i & 255) + ":1");
  };
  for (size_t i = 0; i < SourceRateLimiter::MAX_SOURCES; ++i) ASSERT_TRUE(limiter.allow(source(i), 0));
  EXPECT_FALSE(limiter.allow(source(SourceRateLimiter::MAX_SOURCES), 0));  // full, none quiet yet
  EXPECT_EQ(limiter.tracked(), SourceRateLimiter::MAX_SOURCES);
  EXPECT_TRUE(limiter.allow(source(SourceRateLimiter::MAX_SOURCES), TAU_ZQ_US));  // the quiet ones swept
  EXPECT_LE(limiter.tracked(), 1u);
}

// A full map is walked at most once per sweep interval, however many new
// sources knock: each refusal in between costs O(1).
TEST(SourceRateLimiter, AFullMapIsSweptAtMostOncePerInterval) {
  SourceRateLimiter limiter;
  auto source = [](size_t i) {
    return *parse_udp_endpoint("10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
                               std::to_string(i & 255) + ":1");
  };
  const int64_t t = 5 * SourceRateLimiter::SWEEP_INTERVAL_US;
  for (size_t i = 0; i < SourceRateLimiter::MAX_SOURCES; ++i) ASSERT_TRUE(limiter.allow(source(i), t));
  const uint64_t sweeps = limiter.sweeps();
  for (size_t i = 0; i < 20'000; ++i)
    ASSERT_FALSE(limiter.allow(source(SourceRateLimiter::MAX_SOURCES + i), t + int64_t(i) * 10)) << i;
  EXPECT_EQ(limiter.sweeps(), sweeps);
  // The next interval's sweep frees the quiet ones, once.
  EXPECT_TRUE(limiter.allow(source(SourceRateLimiter::MAX_SOURCES), t + SourceRateLimiter::SWEEP_INTERVAL_US));
  EXPECT_EQ(limiter.sweeps(), sweeps + 1);
  EXPECT_LE(limiter.tracked(), 1u);
}

class GuardTest : public ::testing::Test {
 protected:
  // Header bytes 1..3 zero: a v1 initiation (no extensions).
  GuardTest() { init_[0] = wire::kHandshakeInit; init_[1] = init_[2] = init_[3] = 0; }
  HandshakeGuard::Verdict check(ByteSpan msg, const UdpEndpoint& from, int depth, int64_t now) {
    return guard_.check(msg, from, depth, now, reply_);
  }
  // init_ as a peer sends it after the guard (under load) answered it with a
  // cookie reply at `now`: with mac2 from that cookie.
  Bytes init_with_mac2_from_reply(int64_t now) {
    EXPECT_EQ(check(init_, kSource, HandshakeGuard::LOAD_QUEUE_DEPTH, now), HandshakeGuard::Verdict::kCookieReply);
    PeerCookie jar(own_public_);
    jar.remember_sent(init_);
    EXPECT_TRUE(jar.accept_reply(reply_, now));
    Bytes with_mac2 = init_;
    with_mac2.resize(wire::INIT_WITH_MAC2_SIZE);
    EXPECT_EQ(jar.add_mac2(with_mac2, wire::INIT_SIZE, now), wire::INIT_WITH_MAC2_SIZE);
    return with_mac2;
  }
  std::array<uint8_t, 32> own_public_{};
  SystemRandom random_;
  HandshakeGuard guard_{own_public_, random_};
  std::array<uint8_t, wire::COOKIE_REPLY_SIZE> reply_{};
  Bytes init_ = Bytes(wire::INIT_SIZE, 0x21);
};

TEST_F(GuardTest, ArrivalRateAloneBringsLoadAndItPassesAZeqondLater) {
  int64_t t = 10 * TAU_ZQ_US;
  for (int i = 0; i < HandshakeGuard::LOAD_MESSAGES_PER_ZEQOND; ++i)
    ASSERT_EQ(check(init_, kSource, 0, t), HandshakeGuard::Verdict::kPass) << i;
  EXPECT_EQ(check(init_, kSource, 0, t), HandshakeGuard::Verdict::kCookieReply);
  EXPECT_TRUE(guard_.under_load(t));
  EXPECT_FALSE(guard_.under_load(t + HandshakeGuard::LOAD_HOLD_US));
  EXPECT_EQ(check(init_, kSource, 0, t + HandshakeGuard::LOAD_HOLD_US), HandshakeGuard::Verdict::kPass);
}

// The cookie in a reply proves one address and port, and only until the
// secret rotates.
TEST_F(GuardTest, Mac2IsBoundToTheAddressAndTheSecretsLifetime) {
  int64_t t = 10 * TAU_ZQ_US;
  Bytes with_mac2 = init_with_mac2_from_reply(t);
  EXPECT_EQ(check(with_mac2, kSource, HandshakeGuard::LOAD_QUEUE_DEPTH, t), HandshakeGuard::Verdict::kPass);
  EXPECT_EQ(check(with_mac2, kSourceOtherPort, HandshakeGuard::LOAD_QUEUE_DEPTH, t), HandshakeGuard::Verdict::kCookieReply);
  int64_t later = t + COOKIE_SECRET_LIFETIME_US;
  EXPECT_EQ(check(with_mac2, kSource, HandshakeGuard::LOAD_QUEUE_DEPTH, later), HandshakeGuard::Verdict::kCookieReply);
}

// A flooder at one address gets the node's budget of cookie replies, then
// its own bucket's few; every other address still gets its reply, from the
// second budget; many addresses together get no more than both budgets.
TEST_F(GuardTest, CookieRepliesPerSourceAndInAllAreBounded) {
  int64_t t = 10 * TAU_ZQ_US;
  int replies = 0;
  for (int i = 0; i < 4 * HandshakeGuard::MAX_COOKIE_REPLIES_PER_ZEQOND; ++i)
    replies += check(init_, kSource, HandshakeGuard::LOAD_QUEUE_DEPTH, t) == HandshakeGuard::Verdict::kCookieReply;
  EXPECT_EQ(replies, HandshakeGuard::MAX_COOKIE_REPLIES_PER_ZEQOND + SourceRateLimiter::BURST);
  EXPECT_EQ(check(init_, *parse_udp_endpoint("192.0.2.9:5"), HandshakeGuard::LOAD_QUEUE_DEPTH, t),
            HandshakeGuard::Verdict::kCookieReply);
  // Many sources together, in the next Zeqond: both budgets, no more.
  t += TAU_ZQ_US;
  replies = 0;
  const int both = HandshakeGuard::MAX_COOKIE_REPLIES_PER_ZEQOND + HandshakeGuard::MAX_EXTRA_COOKIE_REPLIES_PER_ZEQOND;
  for (int i = 0; i < 2 * both; ++i) {
    auto from = *parse_udp_endpoint("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":7");
    replies += check(init_, from, HandshakeGuard::LOAD_QUEUE_DEPTH, t) == HandshakeGuard::Verdict::kCookieReply;
  }
  EXPECT_EQ(replies, both);
  EXPECT_EQ(check(init_, *parse_udp_endpoint("192.0.2.10:5"), HandshakeGuard::LOAD_QUEUE_DEPTH, t),
            HandshakeGuard::Verdict::kUnanswered);
}

// Someone who spoofs peer A's address (its port or any other) with
// initiations that pass mac1 must not use up A's cookie replies: while the
// node's budget lasts, A's own initiation still gets one, and the mac2 from
// it passes, however many the spoofer sent from A's address.
TEST_F(GuardTest, SpoofedFloodFromAPeersAddressLeavesItItsCookie) {
  int64_t t = 10 * TAU_ZQ_US;
  Bytes spoofed(wire::INIT_SIZE, 0x5a);
  spoofed[0] = wire::kHandshakeInit;
  spoofed[1] = spoofed[2] = spoofed[3] = 0;
  for (int i = 0; i < 200; ++i) {
    check(spoofed, kSource, HandshakeGuard::LOAD_QUEUE_DEPTH, t);
    check(spoofed, kSourceOtherPort, HandshakeGuard::LOAD_QUEUE_DEPTH, t);
  }
  Bytes with_mac2 = init_with_mac2_from_reply(t);  // expects a cookie reply to A's initiation
  EXPECT_EQ(check(with_mac2, kSource, HandshakeGuard::LOAD_QUEUE_DEPTH, t), HandshakeGuard::Verdict::kPass);
}

// Cookie replies received for a handshake in flight go on to the control
// thread at most MAX_COOKIE_REPLIES_RECEIVED_PER_ZEQOND per Zeqond.
TEST_F(GuardTest, ReceivedCookieRepliesHaveABudgetPerZeqond) {
  int64_t t = 10 * TAU_ZQ_US;
  int admitted = 0;
  for (int i = 0; i < 3 * HandshakeGuard::MAX_COOKIE_REPLIES_RECEIVED_PER_ZEQOND; ++i)
    admitted += guard_.admit_received_cookie_reply(t);
  EXPECT_EQ(admitted, HandshakeGuard::MAX_COOKIE_REPLIES_RECEIVED_PER_ZEQOND);
  EXPECT_TRUE(guard_.admit_received_cookie_reply(t + TAU_ZQ_US));
  // Not the budget of the replies this node sends.
  EXPECT_EQ(check(init_, kSource, HandshakeGuard::LOAD_QUEUE_DEPTH, t), HandshakeGuard::Verdict::kCookieReply);
}

TEST_F(GuardTest, ValidMac2IsStillHeldToTheSourcesRate) {
  int64_t t = 10 * TAU_ZQ_US;
  Bytes with_mac2 = init_with_mac2_from_reply(t);
  int passed = 0, limited = 0;
  for (int i = 0; i < 100; ++i) {
    auto v = check(with_mac2, kSource, HandshakeGuard::LOAD_QUEUE_DEPTH, t);
    passed += v == HandshakeGuard::Verdict::kPass;
    limited += v == HandshakeGuard::Verdict::kRateLimited;
  }
  EXPECT_EQ(passed, SourceRateLimiter::BURST);
  EXPECT_EQ(limited, 100 - SourceRateLimiter::BURST);
}

}  // namespace
}  // namespace zeq
