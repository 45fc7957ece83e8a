// The TCP MSS clamp for traffic this node forwards through its TUN: a host
// behind the node (or behind a peer) opens TCP with the MSS of its own link,
// usually 1460, and its full-sized segments would not fit the tunnel. SYNs
// crossing the TUN get their MSS lowered (never raised) so that neither end
// ever sends a segment larger than the tunnel carries, without depending on
// ICMP "too big" getting through:
//   into the TUN:   to the MSS of the route they take (`rt mtu`: the TUN's
//                   MTU, or a lower one a route or path MTU says), so the
//                   answering end sends segments that fit the tunnel;
//   out of the TUN: to the tunnel MTU's MSS (MTU - 40 for IPv4, MTU - 60
//                   for IPv6), so the host here sends segments that fit it.
// Installed while the daemon runs with a TUN (not with the relay role, which
// has none), whatever the kill switch or exit settings; removed when it
// stops; the interface and MTU are fixed settings, so a reload keeps it.
//
// Its table is `inet zeqvpn_mss` (a rule per family for SYNs out of the
// TUN, as the MSS differs by family), beside the kill switch's `inet zeqvpn`
// and the exit's `inet zeqvpn_exit`, which it never touches; the exit's
// table clamps forwarding to the exit's out interface the same way.
#pragma once

#include <memory>
#include <string>

#include "core/result.hpp"

namespace zeq {

class FirewallBackend;

inline constexpr char MSS_CLAMP_TABLE[] = "zeqvpn_mss";  // in the inet family

struct MssClampPolicy {
  std::string tun_interface;
  int mtu = 0;  // the TUN's

  // No TUN: no tables.
  bool empty() const { return tun_interface.empty() || mtu <= 0; }
  bool operator==(const MssClampPolicy&) const = default;
};

// One nftables transaction that replaces table inet zeqvpn_mss with the
// clamp, or deletes it when the policy is empty (with the ip and ip6 zeqvpn
// tables that held it in earlier builds, if a crash left them). Safe whether
// or not the tables exist.
std::string render_mss_clamp_nftables(const MssClampPolicy& policy);

// The clamp's life in the daemon: installed once, removed at stop (and when
// destroyed, so a start that fails later leaves nothing behind). A failure
// to install is logged as a warning, not an error: TCP through the tunnel
// then depends on path MTU discovery, as it would without the clamp.
class MssClamp {
 public:
  explicit MssClamp(std::unique_ptr<FirewallBackend> firewall);
  ~MssClamp();

  // Installs (or replaces) the clamp; true when it is in place.
  bool install(const MssClampPolicy& policy);
  void remove();
  bool installed() const { return installed_; }

 private:
  std::unique_ptr<FirewallBackend> firewall_;
  bool installed_ = false;
};

}  // namespace zeq
