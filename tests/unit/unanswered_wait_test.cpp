// The wait RelayTcpClient falls back to TCP on (relay/unanswered_wait.hpp),
// ticked as the control thread does, an eighth of a Zeqond apart.
#include <gtest/gtest.h>

#include "relay/relay_tcp_client.hpp"
#include "relay/unanswered_wait.hpp"

namespace zeq {
namespace {

constexpr int64_t TICK = TAU_ZQ_US / 8;
constexpr int64_t FALLBACK = RelayTcpClient::FALLBACK_AFTER_US;

TEST(UnansweredWait, NothingSentOrAllAnsweredIsNoWait) {
  UnansweredWait w;
  EXPECT_EQ(w.update(0, 0, 10 * TAU_ZQ_US), 0);
  EXPECT_EQ(w.update(5'000'000, 5'000'100, 10 * TAU_ZQ_US), 0);
  EXPECT_FALSE(w.ask_now(100 * TAU_ZQ_US));
}

// A rekey's keepalive to an idle relay wants no answer: after a Zeqond the
// client is told to ask once, and the relay's answer ends the wait well
// before the fallback (this used to fall back to TCP at every rekey).
TEST(UnansweredWait, KeepaliveAloneAsksOnceAndTheAnswerEndsIt) {
  UnansweredWait w;
  const int64_t t0 = 100 * TAU_ZQ_US;
  const int64_t rx = t0 - 1000;  // the handshake response
  const int64_t tx = t0;         // the keepalive after it
  int asks = 0;
  int64_t now = t0;
  int64_t asked_at = 0;
  for (; now < t0 + 2 * TAU_ZQ_US; now += TICK) {
    EXPECT_LT(w.update(tx, rx, now), FALLBACK);
    if (w.ask_now(now)) {
      ++asks;
      asked_at = now;
    }
  }
  EXPECT_EQ(asks, 1);
  EXPECT_GE(asked_at - t0, UnansweredWait::ASK_AFTER_US);
  EXPECT_LE(asked_at - t0, UnansweredWait::ASK_AFTER_US + TICK);
  // The Ping goes out (a send) and its answer comes back.
  EXPECT_LT(w.update(asked_at, asked_at + 500, now), 1);
  EXPECT_EQ(w.since_us(), 0);
}

// Replies stream out through the relay every 20 ms while the other end's
// packets come in through it: the last send is always newer than the last
// receive, yet nothing is unanswered for long.
TEST(UnansweredWait, SteadyStreamBothWaysNeverWaitsLong) {
  UnansweredWait w;
  const int64_t t0 = 50 * TAU_ZQ_US;
  int64_t worst = 0;
  for (int64_t now = t0; now < t0 + 20 * TAU_ZQ_US; now += TICK) {
    const int64_t rx = now - 7'000;  // the latest packet from the relay
    const int64_t tx = now - 2'000;  // our latest, after it
    worst = std::max(worst, w.update(tx, rx, now));
  }
  EXPECT_LE(worst, TICK);
}

// Sends keep going and nothing comes back: the wait grows past the fallback
// from the first unanswered send, later sends do not restart it.
TEST(UnansweredWait, SilentRelayReachesTheFallback) {
  UnansweredWait w;
  const int64_t t0 = 50 * TAU_ZQ_US;
  const int64_t rx = t0 - 10;
  int64_t now = t0;
  int asks = 0;
  while (w.update(now - 2'000, rx, now) < FALLBACK) {
    asks += w.ask_now(now);
    now += TICK;
    ASSERT_LT(now, t0 + 10 * TAU_ZQ_US);
  }
  EXPECT_EQ(asks, 1);
  EXPECT_LE(now - t0, FALLBACK + 2 * TICK);
}

// An old send seen for the first time (after a reset) counts from at most a
// tick ago, not from its stamp.
TEST(UnansweredWait, OldStampCountsFromTheLastTick) {
  UnansweredWait w;
  const int64_t now = 80 * TAU_ZQ_US;
  EXPECT_EQ(w.update(now - 5 * TAU_ZQ_US, now - 6 * TAU_ZQ_US, now), TICK);
}

}  // namespace
}  // namespace zeq
