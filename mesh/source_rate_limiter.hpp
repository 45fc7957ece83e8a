// A token bucket per source address, for handshake messages while the node
// is under load (docs/protocol.md "Cookie reply and mac2"). A bucket keyed by
// an address nobody proved must never be what refuses that address
// anything: a spoofer of a peer's address would spend the peer's tokens and
// lock it out. So HandshakeGuard refuses with a bucket only messages that
// proved their address with mac2, and for cookie replies, which answer
// messages before any proof, asks one only to grant a reply beyond the
// node's budget. Because keys may be spoofed, the hash is seeded with a
// secret: nobody can choose addresses that pile into one hash chain. An IPv4
// address is one source; an IPv6 address counts by its /64, since one host
// can own a whole /64. Thread-safe (the data-plane workers share one);
// memory is bounded by MAX_SOURCES.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "core/constants.hpp"
#include "core/net_address.hpp"

namespace zeq {

class SourceRateLimiter {
 public:
  // 16 handshake messages per Zeqond (about 20 a second, WireGuard's rate)
  // with a burst of 5: far above what a real peer sends (one per
  // HANDSHAKE_RETRY), far below what keeps the control thread busy.
  static constexpr int64_t MESSAGES_PER_ZEQOND = 16;
  static constexpr int64_t BURST = 5;
  // Sources tracked at once. Idle ones are swept at most once per
  // SWEEP_INTERVAL_US (as WireGuard's periodic collection), never per
  // message: a sweep walks the whole map under the lock every worker takes,
  // so a flood of new sources into a full map would otherwise cost a walk
  // each. A new source finding no room is refused until the next sweep.
  static constexpr size_t MAX_SOURCES = 8192;
  static constexpr int64_t SWEEP_INTERVAL_US = TAU_ZQ_US;

  SourceRateLimiter();

  // True when `from` may send one more message now; spends a token.
  bool allow(const UdpEndpoint& from, int64_t now_us);
  size_t tracked() const;
  // Times the map was walked, for tests that bound the work per message.
  uint64_t sweeps() const;

 private:
  static constexpr int64_t COST_US = TAU_ZQ_US / MESSAGES_PER_ZEQOND;
  static constexpr int64_t MAX_TOKENS_US = COST_US * BURST;
  using SourceKey = std::array<uint8_t, 16>;
  struct KeyHash {
    uint64_t seed;  // secret, drawn per limiter
    size_t operator()(const SourceKey& k) const;
  };
  struct Bucket {
    int64_t tokens_us;   // credit, in microseconds of refill
    int64_t updated_us;  // when tokens_us was last brought up to date
  };
  static SourceKey key_of(const UdpEndpoint& from);
  // Drops buckets that have refilled completely (their sources went quiet).
  void sweep(int64_t now_us);

  mutable std::mutex mutex_;
  std::unordered_map<SourceKey, Bucket, KeyHash> buckets_;
  int64_t last_sweep_us_ = 0;
  uint64_t sweeps_ = 0;
};

}  // namespace zeq
