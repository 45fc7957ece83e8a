// The exit role (`exit.enabled`): forwards the traffic of the peers allowed
// to use this node as their exit out of `exit.out_interface`, masqueraded,
// through the firewall's own table (firewall/exit_policy.hpp), and tells the
// node what to offer those peers (mesh/exit_offers.hpp). The kernel's
// forwarding switches stay the operator's: a family whose forwarding is off
// is neither forwarded nor offered, and the log says how to turn it on.
// Planning reads the system only; applying changes nftables. Control thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "firewall/exit_policy.hpp"
#include "firewall/firewall_backend.hpp"
#include "mesh/node_settings.hpp"

namespace zeq {

// What the exit does under one configuration.
struct ExitPlan {
  ExitPolicy policy;           // empty: no exit table
  ExitOfferSettings offer;     // to the node
  bool enabled = false, ipv4_forwarding = false, ipv6_forwarding = false, ipv6_wanted = false;
  std::string out_interface;
  std::vector<std::string> allowed_peers;  // labels, for status
};

// The `exit.role` part of status.
struct ExitServerStatus {
  bool enabled = false;
  std::string out_interface;
  std::vector<std::string> allowed_peers;
  bool ipv4 = false, ipv6 = false;  // offered (forwarding on)
  std::vector<std::string> problems;  // why a family is not offered
  std::map<std::string, uint64_t> counters;  // forwarded_out, forwarded_in, refused (packets)
};

class ExitServer {
 public:
  explicit ExitServer(FirewallBackend& firewall) : firewall_(firewall) {}
  ~ExitServer() { shutdown(); }

  // Reads the forwarding switches and says what the configuration asks;
  // logs (once per change) what keeps a family from being offered.
  ExitPlan plan(const Config& config);
  // Installs or replaces the exit's table (removes it when the plan has
  // none). On error nothing changed.
  Status apply(const ExitPlan& plan);
  // Removes the table (on exit; the exit never forwards without zeqvpnd).
  void shutdown();
  ExitServerStatus status() const;
  const ExitPlan& applied() const { return applied_; }

 private:
  FirewallBackend& firewall_;
  ExitPlan applied_;
  bool table_installed_ = false;
  bool first_ = true;
  std::string warned_;  // the last forwarding warning, so a reload does not repeat it
};

}  // namespace zeq
