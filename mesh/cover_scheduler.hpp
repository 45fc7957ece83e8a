// Cover traffic for every peer in a cover mode whose tunnel is up: sends the
// cover packets that are due and says when the next one is, against the
// monotonic clock (cover_schedule.hpp has the schedules). The node's event
// loop calls run() at the time it returns. Control thread only.
#pragma once

#include <cstdint>

#include "crypto/random.hpp"

namespace zeq {

struct DataPlane;
class SessionManager;

class CoverScheduler {
 public:
  CoverScheduler(DataPlane& plane, SessionManager& sessions, RandomSource& random);

  // Sends every cover packet due by now_ns (CLOCK_MONOTONIC) and returns
  // when to run next: the earliest next packet, or a tick from now, to
  // notice tunnels that come up.
  int64_t run(int64_t now_ns);

 private:
  DataPlane& plane_;
  SessionManager& sessions_;
  RandomSource& random_;
};

}  // namespace zeq
