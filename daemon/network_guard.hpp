// The node's protections outside the tunnel: the kill switch and DNS through
// a peer. It decides the firewall policy from the kill-switch state and from
// whether DNS goes via a peer (then DNS leaving by any other interface is
// blocked), and applies the policy only when it changes, as one transaction.
// The daemon builds it and feeds it what the node announces (HostNetwork).
// In `always` mode it also saves the kill switch for the next boot
// (firewall/boot_rules.hpp), and removes that file in the other modes.
// Control thread only.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/net_address.hpp"
#include "core/result.hpp"
#include "dns/system_resolver.hpp"
#include "firewall/firewall_backend.hpp"
#include "firewall/kill_switch_state.hpp"

namespace zeq {

// What `zeqvpnctl status` and `killswitch status` show of the guard.
struct GuardStatus {
  std::string mode, reason;
  bool armed = false, allow_lan = false, rules_installed = false, stays_after_exit = false;
  std::map<std::string, uint64_t> blocked;  // packets, by counter
  bool dns_via_peer = false, ipv6_blocked = false;
  std::string dns_peer, dns_backend;
  std::vector<std::string> dns_servers;
};

class NetworkGuard {
 public:
  // boot_rules_path: where the kill switch for the next boot is saved
  // (kill_switch_boot_path); empty saves nothing.
  NetworkGuard(const Config& config, std::unique_ptr<FirewallBackend> firewall, std::unique_ptr<SystemResolver> resolver,
               std::string boot_rules_path = {});
  ~NetworkGuard();

  // Installs the starting policy (armed at once in `always` mode), replacing
  // whatever table is there (the boot rules, or an earlier run's) in one
  // transaction. Rules an earlier run left installed stay armed until
  // `zeqvpnctl killswitch disarm`: failing closed beats a silent gap.
  Status start();
  // A reload may change the mode, allow_lan and whether DNS may go via a
  // peer. On error (nftables refused) the running policy and state stay.
  Status reconfigure(const Config& config);
  void set_tunnels_dropped(bool dropped);
  Status arm();
  Status disarm();
  // Points the system resolver at a peer's resolvers and blocks DNS leaks.
  // One peer at a time; `replace` lets another peer's resolver take over
  // (the exit's, which wins over any other peer's).
  Status use_dns(const std::string& peer_label, const std::vector<IpPrefix>& servers, bool replace = false);
  // DNS no longer via a peer: the system resolver is restored and the leak
  // block lifted (the exit was switched off, its resolver is out of reach).
  Status release_dns();
  // Exit routing in use (the conntrack mark chains) and the IPv6 leak block
  // (firewall_policy.hpp), applied at once; on error nothing changed.
  Status set_exit_protection(bool exit_routing, bool block_ipv6);
  const std::string& dns_peer() const { return dns_peer_; }
  bool dns_via_peer_allowed() const { return via_peer_allowed_; }
  // On exit: the resolver is restored; the kill switch stays when its mode
  // says so (always, or armed by the operator), else the rules go.
  void shutdown();
  GuardStatus status() const;

 private:
  Status apply();
  FirewallPolicy policy() const;
  // Saves the boot rules (always mode) or removes them (other modes); a
  // failure is logged: the running kill switch does not depend on it.
  void save_boot_rules();

  FirewallPolicy base_;  // interface, mark, port, allow_lan
  bool via_peer_allowed_;
  std::unique_ptr<FirewallBackend> firewall_;
  std::unique_ptr<SystemResolver> resolver_;
  KillSwitchState kill_switch_;
  std::string dns_peer_;
  std::vector<IpPrefix> dns_servers_;
  bool exit_routing_ = false, block_ipv6_ = false;
  std::optional<FirewallPolicy> applied_;
  bool shut_down_ = false;
  std::string boot_rules_path_, boot_rules_saved_;
};

}  // namespace zeq
