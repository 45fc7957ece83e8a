#include "firewall/boot_rules.hpp"

namespace zeq {

std::string kill_switch_boot_path(const std::string& state_database) {
  size_t slash = state_database.rfind('/');
  return (slash == std::string::npos ? std::string(".") : state_database.substr(0, slash)) + "/killswitch.nft";
}

std::string render_boot_nftables(const FirewallPolicy& policy) {
  return "# zeqvpn kill switch for the next boot, written by zeqvpnd (kill_switch: always).\n"
         "# zeqvpn-killswitch.service loads it with `nft -f` before the network comes up;\n"
         "# zeqvpnd replaces it as it starts, and removes this file when the mode is not\n"
         "# always. Only tables inet/arp " +
         std::string(FIREWALL_TABLE) + " are touched. Do not edit: zeqvpnd rewrites it.\n" + render_nftables(policy);
}

}  // namespace zeq
