// When the next cover packet is due, against the monotonic clock.
//   constant:      due(n) = start + n / COVER_RATE_HZ, computed from n and the
//                  start, never by adding intervals, so the long-run rate
//                  does not drift however late a wake-up is.
//   probabilistic: exponential gaps with the same mean (a Poisson process),
//                  so the timing carries no pattern either.
// Pure: the caller supplies uniform random numbers in (0, 1].
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/modes.hpp"

namespace zeq {

// CoverMode and its names are core/modes.hpp's.

// Nanoseconds between cover packets on average: 1e9 / COVER_RATE_HZ.
double cover_interval_ns();

class CoverSchedule {
 public:
  using Uniform = std::function<double()>;  // in (0, 1]

  CoverSchedule(CoverMode mode, int64_t start_ns, Uniform uniform);
  int64_t next_due_ns() const { return due_; }
  // Moves to the packet after the one due now.
  void advance();
  // How many packets came due before the current one.
  uint64_t passed() const { return n_; }

 private:
  int64_t following(int64_t previous_due) const;
  CoverMode mode_;
  int64_t start_;
  Uniform uniform_;
  uint64_t n_ = 0;  // packets already due
  int64_t due_;
};

}  // namespace zeq
