#include "mesh/relay_switch.hpp"

#include <algorithm>

namespace zeq {

bool TokenBucket::take(uint64_t bytes, int64_t now_us) {
  int64_t last = last_us_.load(std::memory_order_relaxed);
  if (now_us > last) {
    // Whoever moves the clock adds what accrued since. The clock moves only
    // by the time that became whole bytes, so frequent calls at a low rate
    // do not round the refill away; never more than fills the bucket, so
    // the product cannot overflow (depth x 10^6 + rate, well within 64 bits
    // for the configurable bounds).
    const int64_t elapsed = std::min(now_us - last, fill_us_);
    const int64_t add = elapsed * rate_ / 1'000'000;
    // Rounded up: a fraction of a microsecond is lost rather than credited
    // twice.
    const int64_t rate = std::max<int64_t>(rate_, 1);
    const int64_t next = elapsed == fill_us_ ? now_us : last + (add * 1'000'000 + rate - 1) / rate;
    if (add > 0 && last_us_.compare_exchange_strong(last, next, std::memory_order_relaxed)) {
      int64_t t = tokens_.load(std::memory_order_relaxed);
      while (!tokens_.compare_exchange_weak(t, std::min(depth_, std::max<int64_t>(t, -depth_) + add),
                                            std::memory_order_relaxed)) {
      }
    }
  }
  const int64_t n = int64_t(bytes);
  if (tokens_.fetch_sub(n, std::memory_order_relaxed) >= n) return true;
  tokens_.fetch_add(n, std::memory_order_relaxed);
  return false;
}

}  // namespace zeq
