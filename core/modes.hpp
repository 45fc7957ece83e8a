// The enumerated settings of zeqvpn: parsed once by config/, acted on by the
// module that owns each (mesh/ and protocol/ for cover and padding,
// firewall/ for the kill switch, store/ for billing). They live here, below
// all of them, so that config/ hands out typed values without depending on
// the modules that use them. Each has one table of names (enum_names.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/enum_names.hpp"

namespace zeq {

// Cover traffic per peer (mesh/cover_schedule.hpp says what each mode does).
enum class CoverMode : uint8_t { kOff, kConstant, kProbabilistic };
inline constexpr std::array<EnumName<CoverMode>, 3> COVER_MODE_NAMES{{
    {CoverMode::kOff, "off"}, {CoverMode::kConstant, "constant"}, {CoverMode::kProbabilistic, "probabilistic"}}};

// Data message sizes (protocol/padding_policy.hpp).
enum class PaddingPolicy : uint8_t { kNone, kBuckets, kMtu };
inline constexpr std::array<EnumName<PaddingPolicy>, 3> PADDING_POLICY_NAMES{{
    {PaddingPolicy::kNone, "none"}, {PaddingPolicy::kBuckets, "buckets"}, {PaddingPolicy::kMtu, "mtu"}}};

// When the kill switch is armed (firewall/kill_switch_state.hpp).
enum class KillSwitchMode : uint8_t { kOff, kOnDrop, kAlways };
inline constexpr std::array<EnumName<KillSwitchMode>, 3> KILL_SWITCH_MODE_NAMES{{
    {KillSwitchMode::kOff, "off"}, {KillSwitchMode::kOnDrop, "on_drop"}, {KillSwitchMode::kAlways, "always"}}};

// What a tunnel is billed by (store/billing.hpp).
enum class PricingUnit : uint8_t { kGb, kZeqond };
inline constexpr std::array<EnumName<PricingUnit>, 2> PRICING_UNIT_NAMES{{
    {PricingUnit::kGb, "gb"}, {PricingUnit::kZeqond, "zeqond"}}};

inline const char* to_string(CoverMode m) { return name_in(COVER_MODE_NAMES, m); }
inline const char* to_string(PaddingPolicy p) { return name_in(PADDING_POLICY_NAMES, p); }
inline const char* to_string(KillSwitchMode m) { return name_in(KILL_SWITCH_MODE_NAMES, m); }
inline const char* to_string(PricingUnit u) { return name_in(PRICING_UNIT_NAMES, u); }

inline std::optional<CoverMode> cover_mode_from(std::string_view s) { return value_in(COVER_MODE_NAMES, s); }
inline std::optional<PaddingPolicy> padding_policy_from(std::string_view s) { return value_in(PADDING_POLICY_NAMES, s); }
inline std::optional<KillSwitchMode> kill_switch_mode_from(std::string_view s) {
  return value_in(KILL_SWITCH_MODE_NAMES, s);
}
inline std::optional<PricingUnit> pricing_unit_from(std::string_view s) { return value_in(PRICING_UNIT_NAMES, s); }

}  // namespace zeq
