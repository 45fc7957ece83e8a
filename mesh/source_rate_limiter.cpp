#include "mesh/source_rate_limiter.hpp"

#include <algorithm>
#include <cstring>

#include "crypto/random.hpp"

namespace zeq {

namespace {
// splitmix64's finaliser: a bijection in which every input bit moves about
// half the output bits.
uint64_t mix(uint64_t h) {
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}
}  // namespace

SourceRateLimiter::SourceRateLimiter()
    : buckets_(0, KeyHash{(uint64_t(random_u32()) << 32) | random_u32()}) {}

size_t SourceRateLimiter::KeyHash::operator()(const SourceKey& k) const {
  // Keys can be addresses anyone spoofs (see the header): without the
  // secret seed, which chain a key lands in cannot be foreseen.
  uint64_t a, b;
  std::memcpy(&a, k.data(), 8);
  std::memcpy(&b, k.data() + 8, 8);
  return size_t(mix(mix(a ^ seed) ^ b));
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
  ++sweeps_;
  std::erase_if(buckets_, [&](const auto& entry) {
    return entry.second.tokens_us + (now_us - entry.second.updated_us) >= MAX_TOKENS_US;
  });
}

bool SourceRateLimiter::allow(const UdpEndpoint& from, int64_t now_us) {
  const SourceKey key = key_of(from);
  std::lock_guard lock(mutex_);
  if (now_us - last_sweep_us_ >= SWEEP_INTERVAL_US) sweep(now_us);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    // Full: no sweep here (see MAX_SOURCES), so a refusal costs O(1).
    if (buckets_.size() >= MAX_SOURCES) return false;
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

uint64_t SourceRateLimiter::sweeps() const {
  std::lock_guard lock(mutex_);
  return sweeps_;
}

}  // namespace zeq
