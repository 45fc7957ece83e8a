// Sliding anti-replay window over data-message counters (RFC 6479 style):
// a ring of 64-bit blocks, so sliding forward clears whole blocks instead of
// shifting bits. Window = (RING_BLOCKS - 1) * 64 = 16320 counters, above the
// 8192 PROTOCOL.md asks for. Not thread-safe by itself; the session guards it.
#pragma once

#include <array>
#include <cstdint>

#include "core/constants.hpp"

namespace zeq {

class ReplayWindow {
 public:
  static constexpr uint64_t RING_BLOCKS = 256;
  static constexpr uint64_t WINDOW_SIZE = (RING_BLOCKS - 1) * 64;

  // True if counter may be new (not too old, not seen); changes nothing.
  // Lets the receiver drop old packets before spending an AEAD open on them.
  bool may_accept(uint64_t counter) const;
  // Marks counter as seen; false if it was already seen, too old, or at or
  // beyond the message limit. Call only after the packet authenticated.
  bool accept(uint64_t counter);
  void reset();

 private:
  std::array<uint64_t, RING_BLOCKS> ring_{};
  uint64_t last_ = 0;
};

}  // namespace zeq
