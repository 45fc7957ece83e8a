// The relay role's forwarding table (relay/relay_service.hpp builds it,
// workers read it): for every channel a client may send on, who that client
// is, where the message goes, the pair's counters and the limits that apply.
// Published whole (DataPlane::publish_relay_switch) and read without locks;
// a table is immutable but for its counters and token buckets.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>

namespace zeq {

class Peer;

// A byte budget refilled at `rate` bytes per second up to `depth` bytes,
// taken from by several workers without a lock. Approximate under races
// (two refills may both add), never unbounded.
class TokenBucket {
 public:
  TokenBucket(uint64_t rate_bytes_per_s, uint64_t depth_bytes, int64_t now_us)
      : rate_(int64_t(rate_bytes_per_s)), depth_(int64_t(depth_bytes)),
        fill_us_(depth_ * 1'000'000 / std::max<int64_t>(rate_, 1) + 1), tokens_(int64_t(depth_bytes)), last_us_(now_us) {}
  bool take(uint64_t bytes, int64_t now_us);

 private:
  const int64_t rate_, depth_;
  const int64_t fill_us_;  // the time an empty bucket takes to fill
  std::atomic<int64_t> tokens_;
  std::atomic<int64_t> last_us_;
};

// One relayed pair's live numbers: bytes forwarded each way (the carried
// messages' lengths, as both ends count them) and what its limits dropped.
struct RelayPairCounters {
  RelayPairCounters(uint64_t pair_rate, uint64_t depth, int64_t now_us) : bucket(pair_rate, depth, now_us) {}
  std::atomic<uint64_t> up_bytes{0}, down_bytes{0}, up_packets{0}, down_packets{0};
  std::atomic<uint64_t> dropped_over_limit{0}, dropped_no_session{0};
  std::atomic<int64_t> last_forward_us{0};
  TokenBucket bucket;
};

// One client's budget over all its pairs.
struct RelayClientBudget {
  RelayClientBudget(uint64_t rate, uint64_t depth, int64_t now_us) : bucket(rate, depth, now_us) {}
  TokenBucket bucket;
  std::atomic<uint64_t> dropped_over_limit{0};
};

// The entry of a channel: a message on it from `from` goes to `to` on
// `to_channel`.
struct RelayLeg {
  Peer* from = nullptr;
  Peer* to = nullptr;
  uint32_t to_channel = 0;
  bool up = true;  // from the requester towards the target
  std::shared_ptr<RelayPairCounters> pair;
  std::shared_ptr<RelayClientBudget> budget;  // the sender's
};

struct RelaySwitchTable {
  std::unordered_map<uint32_t, RelayLeg> legs;  // by the channel the sender uses
};

}  // namespace zeq
