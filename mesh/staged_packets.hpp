// Packets for a peer that has no usable session yet, held until its
// handshake completes (WireGuard's staged queue): without it the first
// packet to an on-demand tunnel (a ping, a TCP SYN) would be lost and the
// application would wait for its own retry, seconds later. Workers push on
// the slow path only (no session), the control thread takes them all once a
// session is current. Bounded: when full, the oldest packet makes room.
// Bounded for the node too (StagedBudget): a mesh may know thousands of
// peers, and a scan of its address range would otherwise hold 128 packets
// for every one of them (gigabytes).
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "core/bytes.hpp"

namespace zeq {

// How many packets all of a node's peers hold together, and how many they
// may. Shared by the peers' queues; lock-free.
class StagedBudget {
 public:
  // 32 peers' full queues, about 6 MB at the largest MTU.
  static constexpr size_t NODE_CAPACITY = 4096;
  explicit StagedBudget(size_t limit = NODE_CAPACITY) : limit_(limit) {}
  // Counts one more held packet; false (and counts nothing) at the limit.
  bool take_one();
  void give_back(size_t n) { held_.fetch_sub(n, std::memory_order_relaxed); }
  size_t held() const { return held_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::atomic<size_t> held_{0};
};

class StagedPackets {
 public:
  // WireGuard's MAX_STAGED_PACKETS.
  static constexpr size_t CAPACITY = 128;

  StagedPackets() = default;
  // Counted against `budget` (the node's), from now on.
  explicit StagedPackets(std::shared_ptr<StagedBudget> budget) : budget_(std::move(budget)) {}
  ~StagedPackets();
  StagedPackets(const StagedPackets&) = delete;
  StagedPackets& operator=(const StagedPackets&) = delete;

  // Holds a copy of the packet. False when a packet was dropped for it: the
  // oldest held one, to make room (this queue full, or the node's budget
  // spent), or this one (the budget spent and nothing of this peer's held
  // to replace).
  bool push(ByteSpan packet);
  // Every held packet, oldest first; none are held afterwards.
  std::vector<Bytes> take();
  // Drops every held packet; returns how many there were.
  size_t clear();
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::deque<Bytes> packets_;
  std::shared_ptr<StagedBudget> budget_;  // null: bounded per peer only
};

}  // namespace zeq
