// PLAT-chained ticks (TESC, issue 12; docs/protocol.md "Directory sync
// (gossip) and PLAT ticks"). Every digest tick a node sends a peer carries
//   plat_n = HMAC-SHA256(ZEQ_SYNC_SECRET, plat_{n-1} ‖ be64(zeqond) ‖ sync_uid ‖ digest_hash)
// with plat_0 = 32 zero bytes, one chain per (sender, receiver) link. A
// receiver keeps each sender's chain head and flags a broken chain, a
// rewound Zeqond, and a missing PLAT.
//
// What a PLAT that links proves: the sender knows the sync secret (and the
// sync uid), its ticks come in order with rising Zeqonds, and each one
// continues that sender's own chain (a tick taken from another sender's
// chain, or from another sync group, does not link). What it does not: it
// does not authenticate records (their signatures do, record_store.hpp); it
// does not prove the Zeqond is the real time (only that the sender's clock
// did not go back); anyone with the secret can forge a whole chain, for any
// sender; and a tick lost in transit reads as a break (there is no counter
// to tell a gap from a splice).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "crypto/hash.hpp"
#include "crypto/secret_bytes.hpp"

namespace zeq {

using Plat = Digest32;
inline constexpr Plat PLAT_ZERO{};  // plat_0
inline constexpr size_t SYNC_SECRET_MIN_BYTES = 16;
inline constexpr size_t SYNC_SECRET_MAX_BYTES = 1024;
inline constexpr size_t SYNC_UID_MAX_BYTES = 64;
// Chain heads a receiver keeps; beyond them new senders go unchecked.
inline constexpr size_t PLAT_MAX_SENDERS = 4096;

// ZEQ_SYNC_SECRET (locked, wiped) and ZEQ_SYNC_UID, as the loader read
// them. The uid names the sync group: every member sets the same one, like
// the secret, so two groups that happen to share a secret never take each
// other's ticks.
class SyncSecret {
 public:
  // Refuses a secret shorter than SYNC_SECRET_MIN_BYTES (or absurdly long)
  // and a uid that is empty or longer than SYNC_UID_MAX_BYTES.
  static Result<SyncSecret> make(ByteSpan secret, ByteSpan uid);
  std::span<const uint8_t> key() const { return secret_.span(); }
  ByteSpan uid() const { return uid_; }

 private:
  SyncSecret(ByteSpan secret, ByteSpan uid) : secret_(secret), uid_(uid.begin(), uid.end()) {}
  SecretBuffer secret_;
  Bytes uid_;
};

// One link of the chain: the PLAT after `prev` for a tick.
Plat plat_next(const SyncSecret& sync, const Plat& prev, uint64_t zeqond, const Digest32& digest_hash);

// The sending end of one link's chain (one per peer a node ticks to).
class PlatSender {
 public:
  explicit PlatSender(const SyncSecret& sync) : sync_(sync) {}
  // The PLAT of the tick at `zeqond`. A Zeqond not after the last one (the
  // clock went back) starts the chain again from plat_0, counted: the
  // receiver flags it as rewound.
  Plat next(uint64_t zeqond, const Digest32& digest_hash);
  const Plat& head() const { return head_; }
  uint64_t restarts() const { return restarts_; }

 private:
  const SyncSecret& sync_;
  Plat head_ = PLAT_ZERO;
  uint64_t last_z_ = 0;
  bool started_ = false;
  uint64_t restarts_ = 0;
};

// What the receiver made of a tick's PLAT. The first four are in order;
// kMissing, kRewound and kBroken are flags (log, counter, status).
enum class PlatVerdict : uint8_t {
  kLinked,     // continues the sender's chain from the head
  kSameTick,   // the head again: another page of the same tick
  kStarted,    // a new chain from plat_0 (the sender's first tick, or it restarted)
  kJoined,     // the first tick seen from this sender, mid-chain (this node restarted): the head, unproven
  kUnchecked,  // this node has no sync secret, or tracks PLAT_MAX_SENDERS others
  kMissing,    // no PLAT, though this node has a sync secret (every member has one)
  kRewound,    // a Zeqond not after the head's: a late or re-dated tick (the head stays), or a
               // chain started again at an earlier Zeqond, the sender's clock gone back (the head moves)
  kBroken,     // links neither from the head nor from plat_0: a lost tick, a forged or spliced one
};
inline constexpr size_t PLAT_VERDICT_COUNT = size_t(PlatVerdict::kBroken) + 1;
const char* plat_verdict_name(PlatVerdict v);  // "linked", "same_tick", ...
inline bool plat_flagged(PlatVerdict v) { return v >= PlatVerdict::kMissing; }

// The receiving end: each sender's chain head, checked tick by tick.
class PlatReceiver {
 public:
  // A sender's chain as far as this node has followed it.
  struct Head {
    uint64_t zeqond = 0;
    Digest32 digest_hash{};
    Plat plat{};
    Plat start{};  // the first PLAT of the chain when this node saw it start (a late copy moves nothing)
    std::array<uint64_t, PLAT_VERDICT_COUNT> counts{};
  };

  // Without a secret (nullptr) every tick is kUnchecked. `sync` must outlive it.
  explicit PlatReceiver(const SyncSecret* sync, size_t max_senders = PLAT_MAX_SENDERS)
      : sync_(sync), max_senders_(max_senders) {}

  // Checks one tick of `sender` (the tunnel peer's ZID, which the tunnel
  // authenticates) and moves its head: to a tick that links, starts a chain
  // or is the first seen; to a broken one too (so a lost tick costs one
  // flag, not every tick after it); never back (rewound) or to nothing
  // (missing).
  PlatVerdict check(std::string_view sender, uint64_t zeqond, const Digest32& digest_hash,
                    const std::optional<Plat>& plat);
  const Head* head(std::string_view sender) const;
  // A peer gone for good; its next tick starts or joins a chain again.
  void forget(std::string_view sender) {
    if (auto it = heads_.find(sender); it != heads_.end()) heads_.erase(it);
  }
  size_t senders() const { return heads_.size(); }
  bool expects_plat() const { return sync_ != nullptr; }
  // Ticks with verdict v, every sender together.
  uint64_t count(PlatVerdict v) const { return counts_[size_t(v)]; }

 private:
  PlatVerdict counted(Head* head, PlatVerdict v);

  const SyncSecret* sync_;
  size_t max_senders_;
  std::map<std::string, Head, std::less<>> heads_;
  std::array<uint64_t, PLAT_VERDICT_COUNT> counts_{};
};

}  // namespace zeq
