// How long something sent to a relay has gone without anything at all
// coming back: what RelayTcpClient falls back to TCP on (over UDP) and gives
// a TCP connection up on. Apart from the node so it can be tested with plain
// timestamps (tests/unit/unanswered_wait_test.cpp).
//
// A node's last send is not the send still waiting for an answer. With a
// steady stream out through the relay (replies to a peer behind it) the
// last send is always newer than the last receive, answered or not; so a
// wait starts at the last send seen and anything received after it began
// starts it over. And what went out may want no answer at all (the
// keepalive that confirms a rekey): after ASK_AFTER_US of silence the
// client is told to ask, once per wait, with a Ping the relay answers.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/clock.hpp"

namespace zeq {

class UnansweredWait {
 public:
  static constexpr int64_t ASK_AFTER_US = TAU_ZQ_US;

  // last_tx_us / last_rx_us: the latest send to and receive from the
  // relay (monotonic µs, 0 for never); called every tick. Returns for how
  // long a send has gone unanswered, 0 when nothing waits.
  int64_t update(int64_t last_tx_us, int64_t last_rx_us, int64_t now_us) {
    if (last_tx_us <= last_rx_us) {
      reset();
      return 0;
    }
    if (since_us_ == 0 || last_rx_us >= since_us_) {
      // A tick is an eighth of a Zeqond: a send seen now left at most that
      // long ago, however old the stamp (a reset can come between).
      since_us_ = std::max(last_tx_us, now_us - TAU_ZQ_US / 8);
      asked_ = false;
    }
    return now_us - since_us_;
  }

  // True once per wait, when it has lasted ASK_AFTER_US: send a Ping.
  bool ask_now(int64_t now_us) {
    if (since_us_ == 0 || asked_ || now_us - since_us_ < ASK_AFTER_US) return false;
    asked_ = true;
    return true;
  }

  void reset() {
    since_us_ = 0;
    asked_ = false;
  }
  int64_t since_us() const { return since_us_; }

 private:
  int64_t since_us_ = 0;
  bool asked_ = false;
};

}  // namespace zeq
