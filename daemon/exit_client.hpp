// Using an exit node: all traffic but the tunnel's own goes to one peer.
// It decides, from the configuration (exit_node, or a peer holding the
// default routes), the operator (`zeqvpnctl exit use PEER | off`) and the
// exit's offer (mesh/exit_offers.hpp), which families are routed into the
// tunnel, and makes it so in three places, in an order that never leaks:
// the node's cryptokey routes (Node::use_exit), the kernel's policy routing
// (tun/policy_routing.hpp) and the guard's nftables rules (the IPv6 leak
// block when the exit carries no IPv6, the conntrack mark for strict
// reverse-path filtering). Rules a killed run left are removed at start.
// Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"
#include "tun/policy_routing.hpp"

namespace zeq {

class Node;
class NetworkGuard;

// The `exit.client` part of status.
struct ExitClientStatus {
  std::string exit;           // the peer's label; empty: no exit
  std::string exit_zid;
  std::string chosen_by;      // "config" or "operator"
  bool ipv4 = false, ipv6 = false, ipv6_blocked = false;
  uint8_t offered = 0;        // what the exit offered (EXIT_IPV4 | EXIT_IPV6)
  bool offer_needed = false;  // false when the peer's allowed_ips say it all
  uint32_t table = 0;
  std::string installed;      // families with rules and routes in the kernel now
};

class ExitClient {
 public:
  ExitClient(Node& node, NetworkGuard& guard, int tun_ifindex);
  ~ExitClient() { shutdown(); }

  // Removes what an earlier run left, then uses the configured exit.
  Status start(const Config& config);
  // A reload: the configured exit is used when the file's choice changed
  // (an operator's `exit use` / `exit off` holds otherwise), and allow_lan
  // and block_ipv6_leaks take effect. On error the running routing stays.
  Status reconfigure(const Config& config);
  // `zeqvpnctl exit use PEER` and `exit off`: hold until the next restart
  // or a reload that changes exit_node.
  Status use(const std::string& peer);
  Status off();
  // An exit offer from a peer (via the daemon's NetworkPolicy).
  void exit_offered(const std::string& peer_label, const std::string& peer_zid, uint8_t families);
  // The exit in use, by ZID and as the mesh labels peers (empty: none):
  // its DNS offer wins.
  const std::string& exit_zid() const { return current_.zid; }
  const std::string& exit_label() const { return current_.label; }
  // Removes rules, routes and protections; the node keeps running.
  void shutdown();
  ExitClientStatus status() const;

 private:
  // Whom the configuration names: label, ZID, and the families its
  // allowed_ips route by themselves (a wg-quick style 0.0.0.0/0).
  struct Choice {
    std::string peer, label, zid;
    bool yaml_v4 = false, yaml_v6 = false;
  };
  Choice choice_of(const Config& config, const std::string& peer) const;
  // Brings node, kernel and firewall to what `choice` and the offers say.
  Status apply(const Choice& choice);

  Node& node_;
  NetworkGuard& guard_;
  const int ifindex_;
  Config config_;
  std::string configured_;         // the file's exit (name or ZID); empty: none
  std::string chosen_by_ = "config";
  Choice current_;                 // the exit in use
  std::map<std::string, uint8_t> offers_;  // by ZID
  ExitRouting routing_;            // as installed
  bool ipv6_blocked_ = false;
  bool offer_needed_ = false;
  bool restore_src_valid_mark_ = false;
  bool shut_down_ = false;
};

}  // namespace zeq
