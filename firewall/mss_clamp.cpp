#include "firewall/mss_clamp.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "firewall/firewall_backend.hpp"

namespace zeq {

namespace {

// IP header and TCP header without options, as the MSS counts them.
constexpr int IPV4_TCP_HEADERS = 20 + 20, IPV6_TCP_HEADERS = 40 + 20;

// Tables of this name in the ip and ip6 families held the clamp before it
// moved to one inet table (every table present costs each libnftables
// command a ruleset cache entry; two families' tables made installing the
// clamp take 1-3 ms of a 45 ms start, one takes 0.5). Deleted with the rest
// so a node upgraded after a crash is not left with them.
constexpr char LEGACY_TABLE[] = "zeqvpn";

}  // namespace

std::string render_mss_clamp_nftables(const MssClampPolicy& p) {
  // "add" then "delete": safe when a table is absent; one buffer, one
  // transaction, so a replaced clamp never has a gap.
  std::string out = fmt::format("add table ip {0}\ndelete table ip {0}\nadd table ip6 {0}\ndelete table ip6 {0}\n",
                                LEGACY_TABLE);
  out += fmt::format("add table inet {0}\ndelete table inet {0}\n", MSS_CLAMP_TABLE);
  if (p.empty()) return out;
  // Mangle priority: before any filter chain (the kill switch's, the
  // exit's) sees the SYN; the clamp decides nothing, it only rewrites.
  out += fmt::format("table inet {0} {{\n"
                     "\tchain mss_clamp {{\n"
                     "\t\ttype filter hook forward priority mangle; policy accept;\n"
                     "\t\toifname \"{1}\" tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n"
                     "\t\tiifname \"{1}\" meta nfproto ipv4 tcp flags syn / syn,rst tcp option maxseg size set {2}\n"
                     "\t\tiifname \"{1}\" meta nfproto ipv6 tcp flags syn / syn,rst tcp option maxseg size set {3}\n"
                     "\t}}\n"
                     "}}\n",
                     MSS_CLAMP_TABLE, p.tun_interface, p.mtu - IPV4_TCP_HEADERS, p.mtu - IPV6_TCP_HEADERS);
  return out;
}

MssClamp::MssClamp(std::unique_ptr<FirewallBackend> firewall) : firewall_(std::move(firewall)) {}

MssClamp::~MssClamp() { remove(); }

bool MssClamp::install(const MssClampPolicy& policy) {
  if (policy.empty()) {
    remove();
    return false;
  }
  if (Status s = firewall_->apply_mss_clamp(policy); !s) {
    spdlog::warn("MSS clamp for {} not installed: {}; TCP forwarded through the tunnel now relies on ICMP "
                 "\"too big\" reaching its hosts (load nf_tables and give zeqvpnd CAP_NET_ADMIN to have it)",
                 policy.tun_interface, s.message());
    return false;
  }
  installed_ = true;
  spdlog::info("MSS clamp: TCP forwarded through {} clamped to MTU {} (MSS {} IPv4, {} IPv6)", policy.tun_interface,
               policy.mtu, policy.mtu - IPV4_TCP_HEADERS, policy.mtu - IPV6_TCP_HEADERS);
  return true;
}

void MssClamp::remove() {
  if (!installed_) return;
  installed_ = false;
  if (Status s = firewall_->apply_mss_clamp(MssClampPolicy{}); !s)
    spdlog::error("MSS clamp: removing table inet {}: {}; remove it with `nft delete table inet {}`", MSS_CLAMP_TABLE,
                  s.message(), MSS_CLAMP_TABLE);
}

}  // namespace zeq
