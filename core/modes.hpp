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

// What the node is (`role:`): a node with a TUN device, or a relay that
// forwards ciphertext between members and has none (relay/).
enum class NodeRole : uint8_t { kNode, kRelay };
inline constexpr std::array<EnumName<NodeRole>, 2> NODE_ROLE_NAMES{{{NodeRole::kNode, "node"}, {NodeRole::kRelay, "relay"}}};

// How a peer is reached (a peer's `via:`): directly, else through a relay
// (auto), always through a relay, or never.
enum class PeerPath : uint8_t { kAuto, kRelay, kDirect };
inline constexpr std::array<EnumName<PeerPath>, 3> PEER_PATH_NAMES{{
    {PeerPath::kAuto, "auto"}, {PeerPath::kRelay, "relay"}, {PeerPath::kDirect, "direct"}}};

// What a relay writes about the pairs it carries (relay/metadata_log.hpp).
enum class RelayMetadataLog : uint8_t { kOff, kSummary };
inline constexpr std::array<EnumName<RelayMetadataLog>, 2> RELAY_METADATA_LOG_NAMES{{
    {RelayMetadataLog::kOff, "off"}, {RelayMetadataLog::kSummary, "summary"}}};

inline const char* to_string(CoverMode m) { return name_in(COVER_MODE_NAMES, m); }
inline const char* to_string(PaddingPolicy p) { return name_in(PADDING_POLICY_NAMES, p); }
inline const char* to_string(KillSwitchMode m) { return name_in(KILL_SWITCH_MODE_NAMES, m); }
inline const char* to_string(PricingUnit u) { return name_in(PRICING_UNIT_NAMES, u); }

inline const char* to_string(NodeRole r) { return name_in(NODE_ROLE_NAMES, r); }
inline const char* to_string(PeerPath p) { return name_in(PEER_PATH_NAMES, p); }
inline const char* to_string(RelayMetadataLog m) { return name_in(RELAY_METADATA_LOG_NAMES, m); }
inline std::optional<NodeRole> node_role_from(std::string_view s) { return value_in(NODE_ROLE_NAMES, s); }
inline std::optional<PeerPath> peer_path_from(std::string_view s) { return value_in(PEER_PATH_NAMES, s); }
inline std::optional<RelayMetadataLog> relay_metadata_log_from(std::string_view s) {
  return value_in(RELAY_METADATA_LOG_NAMES, s);
}
inline std::optional<CoverMode> cover_mode_from(std::string_view s) { return value_in(COVER_MODE_NAMES, s); }
inline std::optional<PaddingPolicy> padding_policy_from(std::string_view s) { return value_in(PADDING_POLICY_NAMES, s); }
inline std::optional<KillSwitchMode> kill_switch_mode_from(std::string_view s) {
  return value_in(KILL_SWITCH_MODE_NAMES, s);
}
inline std::optional<PricingUnit> pricing_unit_from(std::string_view s) { return value_in(PRICING_UNIT_NAMES, s); }

}  // namespace zeq
