// When the kill switch is armed: the configured mode, the tunnels' state and
// what the operator said with `zeqvpnctl killswitch arm|disarm`.
//   off:     armed only by the operator.
//   on_drop: armed while a peer that carries routes has lost its tunnel
//            (handshakes gave up), disarmed when it is back.
//   always:  armed while the daemon runs, and left armed when it stops or
//            dies, until `zeqvpnctl killswitch disarm` (fail closed).
// An operator's disarm holds until the next arm or restart.
#pragma once

#include <optional>
#include <string>

#include "core/modes.hpp"

namespace zeq {

// KillSwitchMode and its names are core/modes.hpp's.

class KillSwitchState {
 public:
  explicit KillSwitchState(KillSwitchMode mode = KillSwitchMode::kOff) : mode_(mode) {}

  void set_mode(KillSwitchMode mode) { mode_ = mode; }
  void set_tunnels_dropped(bool dropped) { dropped_ = dropped; }
  void operator_arm() { override_ = true; }
  void operator_disarm() { override_ = false; }

  KillSwitchMode mode() const { return mode_; }
  bool armed() const;
  // Why it is armed or not, in a few words for status.
  std::string reason() const;
  // Whether the rules stay when the daemon stops.
  bool stays_after_exit() const { return armed() && (mode_ == KillSwitchMode::kAlways || override_ == true); }

 private:
  KillSwitchMode mode_;
  bool dropped_ = false;
  std::optional<bool> override_;  // set by the operator
};

}  // namespace zeq
