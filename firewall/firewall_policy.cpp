#include "firewall/firewall_policy.hpp"

#include <fmt/format.h>

namespace zeq {

namespace {

// Private, link-local, multicast and broadcast destinations that allow_lan
// lets through.
constexpr char LAN4[] = "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, 224.0.0.0/4, 255.255.255.255";
constexpr char LAN6[] = "fe80::/10, fc00::/7, ff00::/8";

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// The chains of the IPv6 leak block: output and forward alike, except that
// only the daemon's own packets carry its mark.
std::string render_ipv6_leak_block(const FirewallPolicy& p) {
  std::string out = "\tcounter blocked_ipv6 {\n\t}\n";
  for (const char* hook : {"output", "forward"}) {
    const bool output = std::string(hook) == "output";
    out += fmt::format("\tchain ipv6_leak_{0} {{\n"
                       "\t\ttype filter hook {0} priority filter - 2; policy accept;\n"
                       "\t\tmeta nfproto != ipv6 accept\n",
                       hook);
    if (output) out += "\t\toifname \"lo\" accept\n";
    out += fmt::format("\t\toifname {} accept\n", quoted(p.tun_interface));
    if (output) {
      out += fmt::format("\t\tmeta mark 0x{:08x} accept\n", p.fwmark);
      out += "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept\n";
    }
    if (p.allow_lan) {
      if (output) out += "\t\tudp sport 546 udp dport 547 accept\n";
      out += fmt::format("\t\tip6 daddr {{ {} }} accept\n", LAN6);
    }
    // Rejected, not dropped: applications fall back to IPv4 at once
    // instead of waiting for a timeout.
    out += "\t\tcounter name blocked_ipv6 reject with icmpv6 admin-prohibited\n"
           "\t}\n";
  }
  return out;
}

// Replies to the daemon's own underlay traffic get its mark back, so that
// with the exit's default route in the TUN they are still routed (and pass
// strict rp_filter) as underlay: UDP of the tunnel, and TCP of a relay
// reached over TCP (relay/relay_tcp_client.hpp).
std::string render_exit_mark_chains(const FirewallPolicy& p) {
  return fmt::format("\tchain exit_mark_save {{\n"
                     "\t\ttype filter hook postrouting priority mangle; policy accept;\n"
                     "\t\tmeta l4proto {{ tcp, udp }} meta mark 0x{0:08x} ct mark set meta mark\n"
                     "\t}}\n"
                     "\tchain exit_mark_restore {{\n"
                     "\t\ttype filter hook prerouting priority mangle; policy accept;\n"
                     "\t\tmeta l4proto {{ tcp, udp }} ct mark 0x{0:08x} meta mark set ct mark\n"
                     "\t}}\n",
                     p.fwmark);
}

// ARP requests carry the daemon's mark too. The kernel answers a request
// only if the asker's address passes the reverse-path check, and with
// strict rp_filter that lookup (unmarked) would follow the exit's default
// route into the TUN and fail: the exit's underlay neighbour could no longer
// resolve this node once its ARP entry aged out, and everything it sent
// would sit in its neighbour queue (seen as a tunnel going silent one way).
// Marked, the lookup uses the main table, as wg-quick's LAN rule makes it.
std::string render_exit_arp_table(const FirewallPolicy& p) {
  return fmt::format("table arp {} {{\n"
                     "\tchain exit_arp_mark {{\n"
                     "\t\ttype filter hook input priority filter; policy accept;\n"
                     "\t\tmeta mark set 0x{:08x}\n"
                     "\t}}\n"
                     "}}\n",
                     FIREWALL_TABLE, p.fwmark);
}

}  // namespace

std::string render_nftables(const FirewallPolicy& p) {
  // "add" then "delete" makes the delete safe when the table is absent; the
  // whole buffer is one transaction, so there is never a moment without rules.
  // The arp table exists only with exit routing (see render_exit_arp_table).
  std::string out = fmt::format("add table inet {0}\ndelete table inet {0}\nadd table arp {0}\ndelete table arp {0}\n",
                                FIREWALL_TABLE);
  if (p.empty()) return out;
  const std::string tun = quoted(p.tun_interface);
  out += fmt::format("table inet {} {{\n", FIREWALL_TABLE);
  // Named counters (declared before the rules that use them) let `zeqvpnctl
  // killswitch status` say how many packets were kept from leaking.
  if (p.kill_switch) out += "\tcounter blocked_output {\n\t}\n\tcounter blocked_forward {\n\t}\n";
  if (p.block_dns_leaks) out += "\tcounter blocked_dns {\n\t}\n";
  if (p.kill_switch) {
    out += "\tchain killswitch_output {\n"
           "\t\ttype filter hook output priority filter; policy drop;\n"
           "\t\toifname \"lo\" accept\n";
    out += fmt::format("\t\toifname {} accept\n", tun);
    out += fmt::format("\t\tmeta mark 0x{:08x} accept\n", p.fwmark);
    out += "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept\n";
    if (p.allow_lan) {
      out += "\t\tudp sport 68 udp dport 67 accept\n"
             "\t\tudp sport 546 udp dport 547 accept\n";
      out += fmt::format("\t\tip daddr {{ {} }} accept\n", LAN4);
      out += fmt::format("\t\tip6 daddr {{ {} }} accept\n", LAN6);
    }
    out += "\t\tcounter name blocked_output drop\n"
           "\t}\n";
    out += "\tchain killswitch_forward {\n"
           "\t\ttype filter hook forward priority filter; policy drop;\n";
    out += fmt::format("\t\tiifname {0} accept\n\t\toifname {0} accept\n", tun);
    if (p.allow_lan) {
      out += fmt::format("\t\tip daddr {{ {} }} accept\n", LAN4);
      out += fmt::format("\t\tip6 daddr {{ {} }} accept\n", LAN6);
    }
    out += "\t\tcounter name blocked_forward drop\n"
           "\t}\n";
  }
  if (p.block_dns_leaks) {
    // Before the kill switch's chain, so a LAN exception never lets DNS out.
    out += "\tchain dns_leak {\n"
           "\t\ttype filter hook output priority filter - 1; policy accept;\n"
           "\t\toifname \"lo\" accept\n";
    out += fmt::format("\t\toifname {} accept\n", tun);
    // The daemon's own queries (peers' endpoint host names, which must be
    // resolved outside the tunnel) carry its mark.
    out += fmt::format("\t\tmeta mark 0x{:08x} accept\n", p.fwmark);
    out += "\t\tmeta l4proto { tcp, udp } th dport { 53, 853 } counter name blocked_dns drop\n"
           "\t}\n";
  }
  if (p.block_ipv6_leaks) out += render_ipv6_leak_block(p);
  if (p.exit_routing) out += render_exit_mark_chains(p);
  out += "}\n";
  if (p.exit_routing) out += render_exit_arp_table(p);
  return out;
}

std::string render_pf_anchor(const FirewallPolicy& p) {
  std::string out = fmt::format(
      "# zeqvpn kill switch and DNS-leak rules; generated, do not edit.\n"
      "# Load: pfctl -a {} -f THIS_FILE   Remove: pfctl -a {} -F rules\n",
      FIREWALL_TABLE, FIREWALL_TABLE);
  if (p.empty()) return out;
  const std::string& tun = p.tun_interface;
  out += "pass out quick on lo0 all\n";
  out += fmt::format("pass out quick on {} all\n", tun);
  if (p.kill_switch) {
    // pf cannot see socket marks; the daemon's underlay packets are the UDP
    // packets from its listen port.
    out += fmt::format("pass out quick proto udp from any port {} to any\n", p.listen_port);
    out += "pass out quick inet6 proto ipv6-icmp icmp6-type { routersol, neighbrsol, neighbradv }\n";
  }
  // pf cannot see socket marks, so here the daemon's own queries for
  // endpoint host names are blocked with the rest (use numeric endpoints).
  if (p.block_dns_leaks) out += "block drop out quick proto { tcp, udp } to any port { 53, 853 }\n";
  if (p.block_ipv6_leaks) {
    // Exit routing itself has no pf form here (pf routes with route-to);
    // the IPv6 block does.
    if (!p.kill_switch) {
      out += fmt::format("pass out quick inet6 proto udp from any port {} to any\n", p.listen_port);
      out += "pass out quick inet6 proto ipv6-icmp icmp6-type { routersol, neighbrsol, neighbradv }\n";
    }
    if (p.allow_lan) out += fmt::format("pass out quick inet6 to {{ {} }}\n", LAN6);
    out += "block return out quick inet6 all\n";
  }
  if (p.kill_switch) {
    if (p.allow_lan) {
      out += "pass out quick inet proto udp from any port 68 to any port 67\n";
      out += "pass out quick inet6 proto udp from any port 546 to any port 547\n";
      out += fmt::format("pass out quick inet to {{ {} }}\n", LAN4);
      out += fmt::format("pass out quick inet6 to {{ {} }}\n", LAN6);
    }
    out += "block drop out quick all\n";
  }
  return out;
}

}  // namespace zeq
