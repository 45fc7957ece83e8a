// The exit role's nftables table (`inet zeqvpn_exit`), separate from the
// kill switch's so the two live apart: the kill switch may stay after the
// daemon exits, the exit's forwarding never does. Replaced as a whole, like
// the kill switch's table; nothing outside it is touched.
//
// Forwarded from the TUN to the out interface: accepted (and masqueraded to
// the out interface's address) only from the tunnel addresses of the peers
// allowed to use the exit, counted and dropped from anyone else. From the out
// interface back into the TUN: only replies (conntrack established/related).
// TCP SYNs crossing the TUN get their MSS clamped to the route's MTU, so
// hosts behind either side never depend on ICMP "too big" getting through.
#pragma once

#include <string>
#include <vector>

#include "core/net_address.hpp"

namespace zeq {

inline constexpr char EXIT_TABLE[] = "zeqvpn_exit";

struct ExitPolicy {
  std::string tun_interface = "zeq0";
  std::string out_interface;
  // The allowed peers' allowed_ips, by family; an empty family forwards
  // nothing of that family. With none at all the table still refuses
  // everyone (a host that forwards must not pass the mesh out plainly).
  std::vector<IpPrefix> sources_v4, sources_v6;

  // No exit role: no table.
  bool empty() const { return out_interface.empty(); }
  bool operator==(const ExitPolicy&) const = default;
};

// One nftables transaction that replaces table inet zeqvpn_exit with the
// policy's rules, or deletes it when the policy is empty. Safe whether or
// not the table exists.
std::string render_exit_nftables(const ExitPolicy& policy);

}  // namespace zeq
