// Clocks. Protocol code never reads time itself; it is handed a Clock so that
// tests can pin the wall clock (for Zeqond stamps) and the monotonic clock
// (for timers) to chosen values.
#pragma once

#include <cstdint>

#include "core/constants.hpp"

namespace zeq {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch (CLOCK_REALTIME).
  virtual int64_t unix_us() const = 0;
  // Microseconds on a clock that never jumps (CLOCK_MONOTONIC).
  virtual int64_t mono_us() const = 0;

  uint64_t zeqond() const { return zeqond_of(unix_us()); }
};

// The system's clocks.
class SystemClock final : public Clock {
 public:
  int64_t unix_us() const override;
  int64_t mono_us() const override;
};

// A clock that tests set by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_us = 0, int64_t mono_us = 0) : unix_(unix_us), mono_(mono_us) {}
  int64_t unix_us() const override { return unix_; }
  int64_t mono_us() const override { return mono_; }
  void advance_us(int64_t d) { unix_ += d; mono_ += d; }
  void set_unix_us(int64_t t) { unix_ = t; }

 private:
  int64_t unix_;
  int64_t mono_;
};

// Monotonic microseconds without a Clock object, for the data path.
int64_t mono_now_us();

}  // namespace zeq
