// The timing of hole punching and of the direct path's liveness, per peer
// (docs/protocol.md "NAT traversal"), apart from any socket or node so it can
// be tested with a fake clock. relay/nat_traversal.cpp drives one per peer.
//
//   idle --(relayed, session up)--> asked --(Candidates answer)--> punching
//   punching --(ProbeReply: a direct round trip)--> direct
//   punching --(PUNCH_FOR_US without one)--> failed (retry after backoff)
//   direct --(no ProbeReply for DIRECT_DEAD_AFTER_US)--> failed (back to the relay)
//   failed --(backoff over)--> idle;  any --(both NATs symmetric)--> symmetric
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/clock.hpp"

namespace zeq {

class HolePunch {
 public:
  enum class Phase { kIdle, kAsked, kPunching, kDirect, kFailed, kSymmetric };
  // Punch rounds (a probe to every candidate) start every PUNCH_FIRST_GAP_US,
  // the gap doubling every PUNCH_ROUNDS_PER_STEP rounds up to PUNCH_MAX_GAP_US,
  // for PUNCH_FOR_US in all: both ends start within one relayed round trip
  // of each other, so their rounds overlap from the first ones.
  static constexpr int64_t PUNCH_FIRST_GAP_US = TAU_ZQ_US / 16;
  static constexpr int PUNCH_ROUNDS_PER_STEP = 4;
  static constexpr int64_t PUNCH_MAX_GAP_US = TAU_ZQ_US / 2;
  static constexpr int64_t PUNCH_FOR_US = 4 * TAU_ZQ_US;
  // A Candidates request unanswered this long counts as a failed attempt.
  static constexpr int64_t ASK_TIMEOUT_US = 2 * TAU_ZQ_US;
  // After a failure: 13 Zeqonds, doubled each time in a row, up to 386.
  static constexpr int64_t RETRY_FIRST_US = 13 * TAU_ZQ_US;
  static constexpr int64_t RETRY_MAX_US = 386 * TAU_ZQ_US;
  // Both ends symmetric: looked at again this often (a NAT may change).
  static constexpr int64_t SYMMETRIC_RECHECK_US = 64 * TAU_ZQ_US;
  // On the direct path: a probe when no reply came for DIRECT_PROBE_EVERY_US;
  // dead when none came for DIRECT_DEAD_AFTER_US (or four round trips, if
  // longer), then packets go back through the relay: detection plus the far
  // end following take well under 2 Zeqonds.
  static constexpr int64_t DIRECT_PROBE_EVERY_US = TAU_ZQ_US / 4;
  static constexpr int64_t DIRECT_DEAD_AFTER_US = 3 * TAU_ZQ_US / 4;

  Phase phase() const { return phase_; }
  int failures() const { return failures_; }
  int64_t retry_at_us() const { return retry_us_; }

  // idle (or failed with its backoff over) and allowed to ask now?
  bool may_ask(int64_t now) const {
    return phase_ == Phase::kIdle || ((phase_ == Phase::kFailed || phase_ == Phase::kSymmetric) && now >= retry_us_);
  }
  void asked(int64_t now) {
    phase_ = Phase::kAsked;
    since_us_ = now;
  }
  // Candidates arrived (a request or an answer): punching starts now, unless
  // it runs already (both ends asked at once).
  void start_punching(int64_t now) {
    if (phase_ == Phase::kPunching || phase_ == Phase::kDirect) return;
    phase_ = Phase::kPunching;
    since_us_ = now;
    next_round_us_ = now;
    gap_us_ = PUNCH_FIRST_GAP_US;
    rounds_ = 0;
  }
  void symmetric(int64_t now) {
    phase_ = Phase::kSymmetric;
    retry_us_ = now + SYMMETRIC_RECHECK_US;
  }
  // punching: true when a round of probes is due now (and counts it).
  bool round_due(int64_t now) {
    if (phase_ != Phase::kPunching || now < next_round_us_) return false;
    ++rounds_;
    if (rounds_ % PUNCH_ROUNDS_PER_STEP == 0) gap_us_ = std::min(gap_us_ * 2, PUNCH_MAX_GAP_US);
    next_round_us_ = now + gap_us_;
    return true;
  }
  int rounds() const { return rounds_; }
  // A direct round trip worked: the direct path is in use.
  void direct(int64_t now) {
    if (phase_ != Phase::kDirect) since_us_ = now;
    phase_ = Phase::kDirect;
    failures_ = 0;
    last_reply_us_ = now;
  }
  void reply(int64_t now) { last_reply_us_ = now; }
  void probed(int64_t now) { last_probe_us_ = now; }
  int64_t last_reply_us() const { return last_reply_us_; }
  int64_t since_us() const { return since_us_; }
  // direct: a liveness probe due now?
  bool probe_due(int64_t now) const {
    return phase_ == Phase::kDirect && now - last_reply_us_ >= DIRECT_PROBE_EVERY_US &&
           now - last_probe_us_ >= DIRECT_PROBE_EVERY_US;
  }
  bool direct_dead(int64_t now, int64_t rtt_us) const {
    return phase_ == Phase::kDirect && now - last_reply_us_ > std::max(DIRECT_DEAD_AFTER_US, 4 * rtt_us);
  }
  // asked or punching for too long?
  bool timed_out(int64_t now) const {
    return (phase_ == Phase::kAsked && now - since_us_ > ASK_TIMEOUT_US) ||
           (phase_ == Phase::kPunching && now - since_us_ > PUNCH_FOR_US);
  }
  void fail(int64_t now) {
    ++failures_;
    phase_ = Phase::kFailed;
    retry_us_ = now + std::min(RETRY_MAX_US, RETRY_FIRST_US << std::min(failures_ - 1, 10));
  }
  // A local address changed: whatever was found may be stale; start over.
  void reset() {
    phase_ = Phase::kIdle;
    failures_ = 0;
    retry_us_ = 0;
  }

 private:
  Phase phase_ = Phase::kIdle;
  int64_t since_us_ = 0, next_round_us_ = 0, gap_us_ = PUNCH_FIRST_GAP_US;
  int rounds_ = 0, failures_ = 0;
  int64_t retry_us_ = 0, last_reply_us_ = 0, last_probe_us_ = 0;
};

const char* hole_punch_phase_name(HolePunch::Phase p);

}  // namespace zeq
