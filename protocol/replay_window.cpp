#include "protocol/replay_window.hpp"

namespace zeq {

bool ReplayWindow::may_accept(uint64_t counter) const {
  if (counter >= REKEY_AFTER_MESSAGES) return false;
  if (counter > last_) return true;
  if (last_ - counter > WINDOW_SIZE) return false;
  uint64_t block = (counter >> 6) & (RING_BLOCKS - 1);
  return (ring_[block] & (uint64_t{1} << (counter & 63))) == 0;
}

bool ReplayWindow::accept(uint64_t counter) {
  if (counter >= REKEY_AFTER_MESSAGES) return false;
  uint64_t index = counter >> 6;
  if (counter > last_) {
    uint64_t current = last_ >> 6;
    uint64_t diff = index - current;
    if (diff > RING_BLOCKS) diff = RING_BLOCKS;
    for (uint64_t i = 1; i <= diff; ++i) ring_[(current + i) & (RING_BLOCKS - 1)] = 0;
    last_ = counter;
  } else if (last_ - counter > WINDOW_SIZE) {
    return false;
  }
  uint64_t& block = ring_[index & (RING_BLOCKS - 1)];
  uint64_t bit = uint64_t{1} << (counter & 63);
  if (block & bit) return false;
  block |= bit;
  return true;
}

void ReplayWindow::reset() {
  ring_.fill(0);
  last_ = 0;
}

}  // namespace zeq
