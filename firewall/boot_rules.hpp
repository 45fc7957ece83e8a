// The kill switch for the next boot: in `kill_switch: always` mode zeqvpnd
// saves the rules it arms as it starts, and zeqvpn-killswitch.service loads
// them with `nft -f` before network-pre.target, so nothing leaves between
// boot and the daemon's start; the daemon then replaces the table in one
// transaction (render_nftables), never leaving a moment without it.
#pragma once

#include <string>

#include "firewall/firewall_policy.hpp"

namespace zeq {

// Where the boot rules of the node whose state database is `state_database`
// live: killswitch.nft beside it (/var/lib/zeqvpn/killswitch.nft; each
// zeqvpnd@NAME has its own state directory, hence its own file).
std::string kill_switch_boot_path(const std::string& state_database);

// The file's text: a header saying what it is, then the transaction
// render_nftables makes of the policy (our tables only; no secrets).
std::string render_boot_nftables(const FirewallPolicy& policy);

}  // namespace zeq
