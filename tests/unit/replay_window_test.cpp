#include <gtest/gtest.h>

#include <random>
#include <set>

#include "protocol/replay_window.hpp"

namespace zeq {

TEST(ReplayWindow, AcceptsInOrderAndRejectsDuplicates) {
  ReplayWindow w;
  for (uint64_t c = 0; c < 100; ++c) EXPECT_TRUE(w.accept(c)) << c;
  for (uint64_t c = 0; c < 100; ++c) EXPECT_FALSE(w.accept(c)) << c;
}

TEST(ReplayWindow, CounterZeroOnlyOnce) {
  ReplayWindow w;
  EXPECT_TRUE(w.may_accept(0));
  EXPECT_TRUE(w.accept(0));
  EXPECT_FALSE(w.may_accept(0));
  EXPECT_FALSE(w.accept(0));
}

TEST(ReplayWindow, OutOfOrderWithinWindow) {
  ReplayWindow w;
  EXPECT_TRUE(w.accept(1000));
  EXPECT_TRUE(w.accept(999));
  EXPECT_TRUE(w.accept(10));
  EXPECT_FALSE(w.accept(10));
  EXPECT_TRUE(w.accept(1001));
}

TEST(ReplayWindow, WindowEdge) {
  ReplayWindow w;
  const uint64_t top = ReplayWindow::WINDOW_SIZE + 5000;
  ASSERT_GE(ReplayWindow::WINDOW_SIZE, 8192u);
  EXPECT_TRUE(w.accept(top));
  // Exactly WINDOW_SIZE behind is still inside; one more is outside.
  EXPECT_TRUE(w.may_accept(top - ReplayWindow::WINDOW_SIZE));
  EXPECT_TRUE(w.accept(top - ReplayWindow::WINDOW_SIZE));
  EXPECT_FALSE(w.may_accept(top - ReplayWindow::WINDOW_SIZE - 1));
  EXPECT_FALSE(w.accept(top - ReplayWindow::WINDOW_SIZE - 1));
}

TEST(ReplayWindow, BigJumpClearsRing) {
  ReplayWindow w;
  for (uint64_t c = 0; c < 64 * ReplayWindow::RING_BLOCKS; c += 7) ASSERT_TRUE(w.accept(c));
  const uint64_t far = 1'000'000;
  EXPECT_TRUE(w.accept(far));
  // Counters inside the new window that map onto old ring bits are fresh.
  for (uint64_t c = far - 100; c < far; ++c) EXPECT_TRUE(w.accept(c)) << c;
  EXPECT_FALSE(w.accept(far));
}

TEST(ReplayWindow, RejectsAtMessageLimit) {
  ReplayWindow w;
  EXPECT_FALSE(w.may_accept(REKEY_AFTER_MESSAGES));
  EXPECT_FALSE(w.accept(REKEY_AFTER_MESSAGES));
  EXPECT_TRUE(w.accept(REKEY_AFTER_MESSAGES - 1));
}

TEST(ReplayWindow, MayAcceptChangesNothing) {
  ReplayWindow w;
  EXPECT_TRUE(w.may_accept(5));
  EXPECT_TRUE(w.may_accept(5));
  EXPECT_TRUE(w.accept(5));
}

// The window against a model with no ring: a counter is accepted when below
// the limit, not more than WINDOW_SIZE behind the highest accepted, and not
// seen before; may_accept says the same without changing anything. Counters
// walk forward with jitter, jumps and replays, so the ring wraps many times.
TEST(ReplayWindow, MatchesAModelOnRandomTraffic) {
  std::mt19937_64 rng(14);
  ReplayWindow w;
  std::set<uint64_t> seen;
  uint64_t highest = 0;
  uint64_t next = 0;
  for (int i = 0; i < 200'000; ++i) {
    uint64_t c;
    switch (rng() % 8) {
      case 0: c = next + rng() % (3 * ReplayWindow::WINDOW_SIZE); break;               // a jump ahead
      case 1: c = next > 20'000 ? next - rng() % 20'000 : rng() % (next + 1); break;  // late, maybe too late
      case 2: c = highest - std::min<uint64_t>(highest, rng() % 64); break;                  // mostly replays
      default: c = next + rng() % 16; break;                                          // nearly in order
    }
    next = std::max(next, c);
    const bool expect = c < REKEY_AFTER_MESSAGES && (c > highest || highest - c <= ReplayWindow::WINDOW_SIZE) &&
                        !seen.contains(c);
    ASSERT_EQ(w.may_accept(c), expect) << "counter " << c << " step " << i;
    ASSERT_EQ(w.accept(c), expect) << "counter " << c << " step " << i;
    if (expect) {
      seen.insert(c);
      highest = std::max(highest, c);
    }
    // Keep the model small: what is far behind can never be accepted again.
    while (!seen.empty() && highest - *seen.begin() > 2 * ReplayWindow::WINDOW_SIZE) seen.erase(seen.begin());
  }
}

TEST(ReplayWindow, ResetForgetsEverything) {
  ReplayWindow w;
  EXPECT_TRUE(w.accept(100'000));
  w.reset();
  EXPECT_TRUE(w.may_accept(0));
  EXPECT_TRUE(w.accept(0));
  EXPECT_TRUE(w.accept(100'000));
}

}  // namespace zeq
