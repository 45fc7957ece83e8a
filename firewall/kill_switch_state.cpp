#include "firewall/kill_switch_state.hpp"

namespace zeq {

const char* to_string(KillSwitchMode m) {
  switch (m) {
    case KillSwitchMode::kOff: return "off";
    case KillSwitchMode::kOnDrop: return "on_drop";
    case KillSwitchMode::kAlways: return "always";
  }
  return "off";
}

std::optional<KillSwitchMode> kill_switch_mode_from(const std::string& s) {
  if (s == "off") return KillSwitchMode::kOff;
  if (s == "on_drop") return KillSwitchMode::kOnDrop;
  if (s == "always") return KillSwitchMode::kAlways;
  return std::nullopt;
}

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
