// Where a FirewallPolicy takes effect. Linux has the nftables backend; a pf
// backend would load render_pf_anchor() with pfctl on BSD and macOS.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/result.hpp"
#include "firewall/exit_policy.hpp"
#include "firewall/firewall_policy.hpp"
#include "firewall/mss_clamp.hpp"

namespace zeq {

class FirewallBackend {
 public:
  virtual ~FirewallBackend() = default;
  // Replaces our rules with the policy's in one transaction (an empty policy
  // removes them).
  virtual Status apply(const FirewallPolicy& policy) = 0;
  // Whether our table is installed, and its drop counters (packets) by name.
  virtual Result<bool> installed() = 0;
  virtual std::map<std::string, uint64_t> blocked_counts() = 0;
  // The exit role's table (exit_policy.hpp), replaced in one transaction;
  // an empty policy removes it. Its counters (packets) by name.
  virtual Status apply_exit(const ExitPolicy& policy) = 0;
  virtual std::map<std::string, uint64_t> exit_counts() = 0;
  // The MSS clamp's tables (mss_clamp.hpp), replaced in one transaction; an
  // empty policy removes them.
  virtual Status apply_mss_clamp(const MssClampPolicy& policy) = 0;
};

}  // namespace zeq
