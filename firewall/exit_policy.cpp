#include "firewall/exit_policy.hpp"

#include <fmt/format.h>

namespace zeq {

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string elements(const std::vector<IpPrefix>& prefixes) {
  std::string out;
  for (const auto& p : prefixes) out += (out.empty() ? "" : ", ") + p.network().to_string();
  return out;
}

}  // namespace

std::string render_exit_nftables(const ExitPolicy& p) {
  std::string out = fmt::format("add table inet {0}\ndelete table inet {0}\n", EXIT_TABLE);
  if (p.empty()) return out;
  const std::string tun = quoted(p.tun_interface), wan = quoted(p.out_interface);
  out += fmt::format("table inet {} {{\n", EXIT_TABLE);
  out += "\tcounter forwarded_out {\n\t}\n\tcounter forwarded_in {\n\t}\n\tcounter refused {\n\t}\n";
  if (!p.sources_v4.empty())
    out += fmt::format("\tset sources_v4 {{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = {{ {} }}\n\t}}\n",
                       elements(p.sources_v4));
  if (!p.sources_v6.empty())
    out += fmt::format("\tset sources_v6 {{\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = {{ {} }}\n\t}}\n",
                       elements(p.sources_v6));
  out += "\tchain forward {\n"
         "\t\ttype filter hook forward priority filter; policy accept;\n";
  out += fmt::format("\t\tiifname {0} tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n"
                     "\t\toifname {0} tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n",
                     tun);
  if (!p.sources_v4.empty())
    out += fmt::format("\t\tiifname {} oifname {} ip saddr @sources_v4 counter name forwarded_out accept\n", tun, wan);
  if (!p.sources_v6.empty())
    out += fmt::format("\t\tiifname {} oifname {} ip6 saddr @sources_v6 counter name forwarded_out accept\n", tun, wan);
  out += fmt::format("\t\tiifname {} oifname {} counter name refused drop\n", tun, wan);
  out += fmt::format("\t\tiifname {} oifname {} ct state established,related counter name forwarded_in accept\n", wan, tun);
  out += fmt::format("\t\tiifname {} oifname {} drop\n", wan, tun);
  out += "\t}\n";
  // Postrouting has no input interface to match on; the source sets name
  // the peers' tunnel addresses, which only ever arrive by the TUN.
  if (!p.sources_v4.empty() || !p.sources_v6.empty()) {
    out += "\tchain nat_out {\n"
           "\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
    if (!p.sources_v4.empty()) out += fmt::format("\t\toifname {} ip saddr @sources_v4 masquerade\n", wan);
    if (!p.sources_v6.empty()) out += fmt::format("\t\toifname {} ip6 saddr @sources_v6 masquerade\n", wan);
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

}  // namespace zeq
