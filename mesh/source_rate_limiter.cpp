#include "mesh/source_rate_limiter.hpp"

#include <algorithm>
#include <cstring>

namespace zeq {

size_t SourceRateLimiter::KeyHash::operator()(const SourceKey& k) const {
  // Keys are addresses an attacker chooses only within what it can receive
  // at (mac2 came first), so a plain mix of the words is enough.
  uint64_t a, b;
  std::memcpy(&a, k.data(), 8);
  std::memcpy(&b, k.data() + 8, 8);
  return size_t((a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2)));
}

SourceRateLimiter::SourceKey SourceRateLimiter::key_of(const UdpEndpoint& from) {
  SourceKey key{};
  std::memcpy(key.data(), from.sa.sin6_addr.s6_addr, 16);
  // IPv6 (not v4-mapped): one source per /64.
  if (!IN6_IS_ADDR_V4MAPPED(&from.sa.sin6_addr)) std::fill(key.begin() + 8, key.end(), 0);
  return key;
}

void SourceRateLimiter::sweep(int64_t now_us) {
  last_sweep_us_ = now_us;
  std::erase_if(buckets_, [&](const auto& entry) {
    return entry.second.tokens_us + (now_us - entry.second.updated_us) >= MAX_TOKENS_US;
  });
}

bool SourceRateLimiter::allow(const UdpEndpoint& from, int64_t now_us) {
  const SourceKey key = key_of(from);
  std::lock_guard lock(mutex_);
  if (now_us - last_sweep_us_ >= TAU_ZQ_US) sweep(now_us);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= MAX_SOURCES) {
      sweep(now_us);
      if (buckets_.size() >= MAX_SOURCES) return false;
    }
    buckets_.emplace(key, Bucket{MAX_TOKENS_US - COST_US, now_us});
    return true;
  }
  Bucket& b = it->second;
  if (now_us > b.updated_us) {  // workers' clocks are read a moment apart
    b.tokens_us = std::min(MAX_TOKENS_US, b.tokens_us + (now_us - b.updated_us));
    b.updated_us = now_us;
  }
  if (b.tokens_us < COST_US) return false;
  b.tokens_us -= COST_US;
  return true;
}

size_t SourceRateLimiter::tracked() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace zeq
