// A peer's current UDP endpoint, read by every worker on every send and
// changed rarely (handshake from a new address, roaming). A sequence lock:
// readers never block and retry only if a write raced them; writers are
// serialised by taking the sequence odd with a compare-and-swap. The bytes
// are kept in atomic words so that the racing reads are not undefined.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

#include "core/net_address.hpp"

namespace zeq {

class EndpointCell {
 public:
  UdpEndpoint load() const {
    UdpEndpoint ep;
    uint64_t w[WORDS];
    for (;;) {
      uint32_t s1 = seq_.load(std::memory_order_acquire);
      if (s1 & 1) continue;
      for (size_t i = 0; i < WORDS; ++i) w[i] = words_[i].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == s1) break;
    }
    std::memcpy(&ep.sa, w, sizeof ep.sa);
    return ep;
  }

  void store(const UdpEndpoint& ep) {
    uint64_t w[WORDS] = {};
    std::memcpy(w, &ep.sa, sizeof ep.sa);
    uint32_t s = seq_.load(std::memory_order_relaxed);
    for (;;) {
      if (!(s & 1) && seq_.compare_exchange_weak(s, s + 1, std::memory_order_acquire)) break;
      s = seq_.load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_release);
    for (size_t i = 0; i < WORDS; ++i) words_[i].store(w[i], std::memory_order_relaxed);
    seq_.store(s + 2, std::memory_order_release);
  }

 private:
  static constexpr size_t WORDS = (sizeof(sockaddr_in6) + 7) / 8;
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint64_t> words_[WORDS] = {};
};

}  // namespace zeq
