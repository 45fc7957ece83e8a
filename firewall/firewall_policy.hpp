// The kill switch and DNS-leak rules, as data and as rendered rule sets. The
// firewall module owns one table (nftables `inet zeqvpn`, plus `arp zeqvpn`
// with exit routing; or the pf anchor `zeqvpn`) and replaces it as a whole; it never touches anything else.
//
// Kill switch armed: outgoing and forwarded packets are dropped unless they
// leave by loopback or the TUN interface, are the daemon's own underlay
// packets (socket mark on Linux, source port on pf), are IPv6 neighbour
// discovery, or (allow_lan) go to DHCP or the link-local and private ranges.
// DNS-leak block: UDP and TCP to ports 53 and 853 leaving by any interface
// other than the TUN (and loopback) are dropped, LAN or not, unless they
// carry the daemon's mark (its own queries for peers' endpoint host names).
// IPv6 leak block (a client whose exit node carries IPv4 only): IPv6 leaving
// or forwarded by any interface but the TUN and loopback is rejected, except
// the daemon's own packets, neighbour discovery and (allow_lan) the LAN.
// Exit routing (policy routing by socket mark, tun/policy_routing.hpp): the
// daemon's mark is saved in conntrack on the way out and put back on the
// replies, so that strict reverse-path filtering (with src_valid_mark) looks
// them up in the main table, not the tunnel's; and incoming ARP gets the
// mark in `table arp zeqvpn`, so that the same check lets this node answer
// its neighbours' ARP requests (the exit's among them).
#pragma once

#include <cstdint>
#include <string>

namespace zeq {

inline constexpr char FIREWALL_TABLE[] = "zeqvpn";
inline constexpr uint32_t DEFAULT_FWMARK = 0x5a51;  // "ZQ"

struct FirewallPolicy {
  std::string tun_interface = "zeq0";
  uint32_t fwmark = DEFAULT_FWMARK;
  uint16_t listen_port = 51820;
  bool kill_switch = false;
  bool allow_lan = false;
  bool block_dns_leaks = false;
  bool block_ipv6_leaks = false;
  bool exit_routing = false;

  bool empty() const { return !kill_switch && !block_dns_leaks && !block_ipv6_leaks && !exit_routing; }
  bool operator==(const FirewallPolicy&) const = default;
};

// One nftables transaction that replaces table inet zeqvpn with the policy's
// rules (or deletes it when the policy is empty). Safe whether or not the
// table exists.
std::string render_nftables(const FirewallPolicy& policy);
// A pf anchor (load with `pfctl -a zeqvpn -f FILE`) for BSD and macOS.
std::string render_pf_anchor(const FirewallPolicy& policy);

}  // namespace zeq
