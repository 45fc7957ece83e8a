#include <gtest/gtest.h>

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

}  // namespace zeq
