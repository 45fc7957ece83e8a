// Packets for a peer that has no usable session yet, held until its
// handshake completes (WireGuard's staged queue): without it the first
// packet to an on-demand tunnel (a ping, a TCP SYN) would be lost and the
// application would wait for its own retry, seconds later. Workers push on
// the slow path only (no session), the control thread takes them all once a
// session is current. Bounded: when full, the oldest packet makes room.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "core/bytes.hpp"

namespace zeq {

class StagedPackets {
 public:
  // WireGuard's MAX_STAGED_PACKETS.
  static constexpr size_t CAPACITY = 128;

  // Holds a copy of the packet. False when the oldest held packet was
  // dropped to make room.
  bool push(ByteSpan packet);
  // Every held packet, oldest first; none are held afterwards.
  std::vector<Bytes> take();
  // Drops every held packet; returns how many there were.
  size_t clear();
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::deque<Bytes> packets_;
};

}  // namespace zeq
