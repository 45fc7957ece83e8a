// What a data-plane worker does with a handshake message that passed mac1
// (docs/protocol.md "Cookie reply and mac2"). Normally it goes to the control
// thread. While the node is under load, a message must prove with mac2 that
// its sender receives at its address, else it is answered with a cookie
// reply and dropped before any Diffie-Hellman; one that proves it is still
// held to its address's token bucket. It also holds the budget of cookie
// replies received that the workers pass to the control thread. Shared by
// all workers; thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>

#include "core/net_address.hpp"
#include "crypto/random_source.hpp"
#include "crypto/secret_bytes.hpp"
#include "mesh/source_rate_limiter.hpp"
#include "protocol/cookie.hpp"

namespace zeq {

class HandshakeGuard {
 public:
  // Under load: the control thread's queue holds this many messages (an
  // eighth of it, as WireGuard) ...
  static constexpr int LOAD_QUEUE_DEPTH = 128;
  // ... or more than this many handshake messages arrived in the current
  // Zeqond (about 330 a second: a node of ten thousand peers rekeying every
  // REKEY_AFTER sees about 220) ...
  static constexpr int LOAD_MESSAGES_PER_ZEQOND = 256;
  // ... and for one Zeqond after the last sign of either.
  static constexpr int64_t LOAD_HOLD_US = TAU_ZQ_US;
  // Cookie replies cost the worker a MAC, a seal and a send (about 4 us and
  // a sendto), on the path data packets wait behind, so they have budgets.
  // First, the node's: this many per Zeqond (about 2600/s), first come,
  // first served, whatever the source. No budget per source may refuse a
  // reply: a message without a valid mac2 has proved no address, so a
  // spoofer of a peer's address would spend that peer's share, keep it from
  // its cookie, and its tunnel would die under load (as in WireGuard, whose
  // only limit is its CPU). A reply to a spoofed address sends that address
  // 52 bytes, fewer than the message answered.
  static constexpr int MAX_COOKIE_REPLIES_PER_ZEQOND = 2048;
  // Once the node's budget is spent, a source still within its own token
  // bucket (SourceRateLimiter's rate) is answered from this second budget
  // per Zeqond. So a flood from one address cannot take every peer's
  // cookie, and a spoofer who empties a peer's bucket leaves that peer
  // exactly where the node's budget alone would: the bucket only ever
  // grants a reply, never refuses one.
  static constexpr int MAX_EXTRA_COOKIE_REPLIES_PER_ZEQOND = 2048;
  // Cookie replies received for a handshake of ours in flight that go on to
  // the control thread, per Zeqond: each of our handshake messages draws at
  // most one (a node of ten thousand peers rekeying sends about 220 per
  // Zeqond), so this keeps replies forged by someone who saw our indices
  // from crowding real handshakes out of the control queue.
  static constexpr int MAX_COOKIE_REPLIES_RECEIVED_PER_ZEQOND = 256;

  // `random` draws the cookie secret and reply nonces from several threads
  // (SystemRandom is safe for that).
  HandshakeGuard(std::span<const uint8_t, 32> own_static_public, RandomSource& random);

  enum class Verdict : uint8_t {
    kPass,         // to the control thread, mac2 stripped
    kCookieReply,  // under load without a valid mac2: send `reply`, drop the message
    kUnanswered,   // the same, but over the cookie-reply budgets: drop without a reply
    kRateLimited,  // under load, the source is over its rate: drop
    kFailed,       // the cookie reply could not be sealed: drop
  };
  // message: a handshake message of a good size whose mac1 is valid;
  // queue_depth: messages waiting for the control thread now.
  Verdict check(ByteSpan message, const UdpEndpoint& from, int queue_depth, int64_t now_us,
                std::span<uint8_t, wire::COOKIE_REPLY_SIZE> reply);

  // A cookie reply for a handshake of ours in flight arrived: true when it
  // fits this Zeqond's MAX_COOKIE_REPLIES_RECEIVED_PER_ZEQOND; spends one.
  bool admit_received_cookie_reply(int64_t now_us);

  bool under_load(int64_t now_us) const { return now_us < under_load_until_us_.load(std::memory_order_relaxed); }
  const SourceRateLimiter& rate_limiter() const { return limiter_; }

 private:
  // Notes this message's arrival; true while under load.
  bool note_arrival(int queue_depth, int64_t now_us);
  // The cookie `from` must key mac2 with now (rotating the secret when due).
  Cookie cookie_for(const UdpEndpoint& from, int64_t now_us);

  const Digest32 own_cookie_key_;
  RandomSource& random_;
  // True when one more cookie reply to `from` fits the node's budget, or
  // else `from`'s bucket and the second budget; spends from them.
  bool may_reply(const UdpEndpoint& from, int64_t now_us);

  SourceRateLimiter limiter_;        // handshake messages with a valid mac2: may refuse
  SourceRateLimiter reply_grants_;   // cookie replies past the node's budget: only grants
  std::atomic<int64_t> under_load_until_us_{0};
  // Arrivals, cookie replies sent (from each budget) and cookie replies
  // received in the current Zeqond, for the whole node.
  struct ZeqondCount {
    // Counts one more; returns the count in now's Zeqond.
    int add(int64_t now_us);
    std::atomic<int64_t> zeqond{-1};
    std::atomic<int> count{0};
  };
  ZeqondCount arrivals_, replies_, extra_replies_, replies_received_;

  std::mutex secret_mutex_;
  Key32 secret_;              // guarded by secret_mutex_
  int64_t secret_born_us_ = 0;
  bool has_secret_ = false;
};

}  // namespace zeq
