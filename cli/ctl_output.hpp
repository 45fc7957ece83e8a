// zeqvpnctl's human-readable output: the daemon's JSON replies rendered as
// short aligned text, the way `wg show` prints. `--json` bypasses this.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace zeq::ctl {

std::string format_status(const nlohmann::json& status);
std::string format_peers(const nlohmann::json& peers);
std::string format_tunnels(const nlohmann::json& tunnels);
// Each peer's cover traffic: mode, padding, packets and bytes each way.
std::string format_cover(const nlohmann::json& peers);
// Kill switch and DNS lines from {"kill_switch": ..., "dns": ...}.
std::string format_guard(const nlohmann::json& guard);
// `exit status` (and the exit part of `status`): {client, role[, dns]}.
std::string format_exit(const nlohmann::json& exit);
// `zeqvpnctl directory`: the records held, then sync state and rejects.
std::string format_directory(const nlohmann::json& directory);
// `zeqvpnctl relays`: on a node, the relays it may use (session, round trip,
// price) and its relayed pairs; on a relay, its offer, limits and pairs.
std::string format_relays(const nlohmann::json& relays);
// 1536 -> "1.50 KiB"
std::string format_bytes(uint64_t bytes);

}  // namespace zeq::ctl
