#include "mesh/relay_switch.hpp"

#include <algorithm>

namespace zeq {

bool TokenBucket::take(uint64_t bytes, int64_t now_us) {
  int64_t last = last_us_.load(std::memory_order_relaxed);
  if (now_us > last && last_us_.compare_exchange_strong(last, now_us, std::memory_order_relaxed)) {
    // Whoever moved the clock adds what accrued since; the cap below keeps
    // the bucket within its depth.
    const int64_t add = std::min<int64_t>(now_us - last, 10'000'000) * rate_ / 1'000'000;
    int64_t t = tokens_.load(std::memory_order_relaxed);
    while (!tokens_.compare_exchange_weak(t, std::min(depth_, t + add), std::memory_order_relaxed)) {
    }
  }
  const int64_t n = int64_t(bytes);
  if (tokens_.fetch_sub(n, std::memory_order_relaxed) >= n) return true;
  tokens_.fetch_add(n, std::memory_order_relaxed);
  return false;
}

}  // namespace zeq
