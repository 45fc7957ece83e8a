// Sliding anti-replay window over data-message counters (RFC 6479 style):
// a ring of 64-bit blocks, so sliding forward clears whole blocks instead of
// shifting bits. Window = (RING_BLOCKS - 1) * 64 = 16320 counters, above the
// 8192 PROTOCOL.md asks for.
//
// Threads: accept() and reset() need one writer at a time (the session
// serialises them with a lock); may_accept() may run on any thread at any
// time, without that lock. The state is kept in atomic words for that (on
// x86-64 and ARM64 a relaxed atomic load or store is a plain one), so the
// unlocked reads are races the language defines, and may_accept()'s answer
// is a safe hint: it says "no" only for a counter accept() would refuse at
// that moment or later (see replay_window.cpp).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "core/constants.hpp"

namespace zeq {

class ReplayWindow {
 public:
  static constexpr uint64_t RING_BLOCKS = 256;
  static constexpr uint64_t WINDOW_SIZE = (RING_BLOCKS - 1) * 64;

  // True if counter may be new (not too old, not seen); changes nothing.
  // Lets the receiver drop old packets before spending an AEAD open on them.
  // Safe to call concurrently with accept().
  bool may_accept(uint64_t counter) const;
  // Marks counter as seen; false if it was already seen, too old, or at or
  // beyond the message limit. Call only after the packet authenticated.
  // One caller at a time.
  bool accept(uint64_t counter);
  // One caller at a time, and no accept() meanwhile.
  void reset();

 private:
  std::array<std::atomic<uint64_t>, RING_BLOCKS> ring_{};
  // The highest counter accepted. Stored with release after the blocks it
  // slid over were cleared, so a reader that loads it with acquire sees
  // those blocks cleared.
  std::atomic<uint64_t> last_{0};
};

}  // namespace zeq
