#include "protocol/replay_window.hpp"

namespace zeq {

// Why a "no" from may_accept() is always right, even racing accept():
// - Too old: last_ only grows, so a counter more than WINDOW_SIZE behind a
//   value of last_ already seen stays too old.
// - Bit set: the bit belongs to `counter` or to a counter a multiple of
//   RING_BLOCKS * 64 away from it. A higher one means last_ has passed it,
//   so `counter` is now more than WINDOW_SIZE behind (too old). A lower one
//   would be a stale bit from before the ring slid over this block; but we
//   only look at the block when counter <= the last_ we loaded (acquire),
//   and the accept() that stored that last_ (or an earlier one, ordered by
//   the session's lock) cleared the block before its release store, so that
//   stale bit is no longer visible.
// A "yes" may be stale (another thread accepts it meanwhile); accept(),
// under the session's lock, has the last word.
bool ReplayWindow::may_accept(uint64_t counter) const {
  if (counter >= REKEY_AFTER_MESSAGES) return false;
  const uint64_t last = last_.load(std::memory_order_acquire);
  if (counter > last) return true;
  if (last - counter > WINDOW_SIZE) return false;
  uint64_t block = (counter >> 6) & (RING_BLOCKS - 1);
  return (ring_[block].load(std::memory_order_relaxed) & (uint64_t{1} << (counter & 63))) == 0;
}

// The only writer (the caller holds the session's lock), so plain
// load-then-store on the atomics is enough: no read-modify-write needed.
bool ReplayWindow::accept(uint64_t counter) {
  if (counter >= REKEY_AFTER_MESSAGES) return false;
  const uint64_t last = last_.load(std::memory_order_relaxed);
  uint64_t index = counter >> 6;
  if (counter > last) {
    uint64_t current = last >> 6;
    uint64_t diff = index - current;
    if (diff > RING_BLOCKS) diff = RING_BLOCKS;
    for (uint64_t i = 1; i <= diff; ++i) ring_[(current + i) & (RING_BLOCKS - 1)].store(0, std::memory_order_relaxed);
    last_.store(counter, std::memory_order_release);
  } else if (last - counter > WINDOW_SIZE) {
    return false;
  }
  std::atomic<uint64_t>& block = ring_[index & (RING_BLOCKS - 1)];
  const uint64_t bits = block.load(std::memory_order_relaxed);
  const uint64_t bit = uint64_t{1} << (counter & 63);
  if (bits & bit) return false;
  block.store(bits | bit, std::memory_order_relaxed);
  return true;
}

void ReplayWindow::reset() {
  for (auto& block : ring_) block.store(0, std::memory_order_relaxed);
  last_.store(0, std::memory_order_release);
}

}  // namespace zeq
