#include "core/clock.hpp"

#include <ctime>

namespace zeq {

namespace {
int64_t read_us(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}
}  // namespace

int64_t SystemClock::unix_us() const { return read_us(CLOCK_REALTIME); }
int64_t SystemClock::mono_us() const { return read_us(CLOCK_MONOTONIC); }
int64_t mono_now_us() { return read_us(CLOCK_MONOTONIC); }

}  // namespace zeq
