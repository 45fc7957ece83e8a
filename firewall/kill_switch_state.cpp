#include "firewall/kill_switch_state.hpp"

namespace zeq {

bool KillSwitchState::armed() const {
  if (override_) return *override_;
  return mode_ == KillSwitchMode::kAlways || (mode_ == KillSwitchMode::kOnDrop && dropped_);
}

std::string KillSwitchState::reason() const {
  if (override_) return *override_ ? "armed by operator" : "disarmed by operator";
  switch (mode_) {
    case KillSwitchMode::kOff: return "mode off";
    case KillSwitchMode::kAlways: return "mode always";
    case KillSwitchMode::kOnDrop: return dropped_ ? "a tunnel dropped" : "all tunnels up";
  }
  return "";
}

}  // namespace zeq
