#include "mesh/cover_schedule.hpp"

#include <cmath>

#include "core/constants.hpp"

namespace zeq {

double cover_interval_ns() { return 1e9 / COVER_RATE_HZ; }

CoverSchedule::CoverSchedule(CoverMode mode, int64_t start_ns, Uniform uniform)
    : mode_(mode), start_(start_ns), uniform_(std::move(uniform)), due_(start_ns) {
  due_ = following(start_ns);
}

int64_t CoverSchedule::following(int64_t previous_due) const {
  if (mode_ == CoverMode::kProbabilistic)
    return previous_due + int64_t(std::llround(-std::log(uniform_()) * cover_interval_ns()));
  // Packet n (from 0) is due at start + (n + 1) intervals.
  return start_ + int64_t(std::llround(double(n_ + 1) * cover_interval_ns()));
}

void CoverSchedule::advance() {
  ++n_;
  due_ = following(due_);
}

}  // namespace zeq
