// Full-tunnel routing by socket mark, the way wg-quick does it, over
// rtnetlink (libnl): a routing table of our own holding a default route into
// the TUN, and policy rules in front of the main table:
//
//   23120  lookup main suppress_prefixlength 0     (allow_lan only: the main
//          table's more specific routes, the LAN's, win; its default does not)
//   23121  not fwmark FWMARK lookup TABLE            (everything but the
//          daemon's own marked UDP packets goes into the tunnel)
//
// Every rule and route carries the protocol ROUTE_PROTOCOL, so whatever a
// run left behind (a crash) is found and removed at the next start without
// touching anyone else's rules. IPv4 and IPv6 separately.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace zeq {

// rtm_protocol / FRA_PROTOCOL of our rules and routes ("Z"); unassigned in
// iproute2's rt_protos.
inline constexpr uint8_t ROUTE_PROTOCOL = 0x5a;
inline constexpr uint32_t RULE_PRIORITY_LAN = 23120;
inline constexpr uint32_t RULE_PRIORITY_EXIT = 23121;

struct ExitRouting {
  int ifindex = 0;       // the TUN
  uint32_t table = 0;    // our routing table (not main, local or default)
  uint32_t fwmark = 0;   // the daemon's own packets, which must not loop
  bool ipv4 = false;     // families routed into the tunnel
  bool ipv6 = false;
  bool allow_lan = false;
  bool operator==(const ExitRouting&) const = default;
};

// Makes the rules and routes exactly what `want` says: adds what is missing
// first, then removes what is no longer wanted, so there is no moment where
// a family that stays routed falls back to the main table.
Status apply_exit_routing(const ExitRouting& want);
// Removes every rule with our protocol and every route in `table` (also what
// a crashed run left). Returns how many rules and routes it removed.
Result<int> remove_exit_routing(uint32_t table);
// What is installed now, for status: "ipv4 ipv6", "" when nothing.
Result<std::string> installed_exit_routing(uint32_t table);

}  // namespace zeq
