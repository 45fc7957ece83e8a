#include "daemon/exit_server.hpp"

#include <net/if.h>

#include <spdlog/spdlog.h>

#include "protocol/control_message.hpp"
#include "tun/sysctl.hpp"

namespace zeq {

namespace {

bool sysctl_on(const std::string& name) {
  auto v = read_sysctl(name);
  return v && *v == 1;
}

}  // namespace

ExitPlan ExitServer::plan(const Config& c) {
  ExitPlan p;
  p.enabled = c.exit.enabled;
  if (!p.enabled) return p;
  p.out_interface = c.exit.out_interface;
  p.ipv6_wanted = c.exit.ipv6;
  p.ipv4_forwarding = sysctl_on("net.ipv4.ip_forward");
  p.ipv6_forwarding = sysctl_on("net.ipv6.conf.all.forwarding");
  const bool v4 = p.ipv4_forwarding, v6 = p.ipv6_wanted && p.ipv6_forwarding;

  std::string warning;
  if (!v4)
    warning += "exit: IPv4 is not forwarded: net.ipv4.ip_forward is 0; turn it on with `sysctl -w net.ipv4.ip_forward=1` "
               "and keep it in /etc/sysctl.d/. ";
  if (p.ipv6_wanted && !v6)
    warning += "exit: IPv6 is not forwarded: net.ipv6.conf.all.forwarding is 0; turn it on (sysctl -w "
               "net.ipv6.conf.all.forwarding=1, and accept_ra=2 on an interface that takes its route from router "
               "advertisements) or set exit.ipv6: false.";
  if (warning != warned_ && !warning.empty()) spdlog::warn("{}", warning);
  warned_ = warning;

  p.policy.tun_interface = c.interface.name;
  p.policy.out_interface = c.exit.out_interface;
  for (const auto& name : c.exit.allowed_peers) {
    for (const auto& peer : c.peers) {
      if (peer.name != name && peer.zid != name) continue;
      p.allowed_peers.push_back(peer.name.empty() ? peer.zid : peer.name);
      p.offer.zids.push_back(peer.zid);
      for (const auto& a : peer.allowed_ips) {
        if (a.length == 0) continue;
        if (a.family == 4 && v4) p.policy.sources_v4.push_back(a);
        if (a.family == 6 && v6) p.policy.sources_v6.push_back(a);
      }
    }
  }
  p.offer.families = uint8_t((v4 ? EXIT_IPV4 : 0) | (v6 ? EXIT_IPV6 : 0));
  return p;
}

Status ExitServer::apply(const ExitPlan& plan) {
  if (plan.enabled && if_nametoindex(plan.out_interface.c_str()) == 0 && plan.out_interface != applied_.out_interface)
    spdlog::warn("exit: out_interface {} does not exist (yet); forwarding starts when it does", plan.out_interface);
  const bool want_table = !plan.policy.empty();
  // The first time also without an exit: a table a killed run left behind
  // goes (and a kernel without nf_tables is no error for a node that
  // forwards nothing).
  if (want_table || table_installed_ || first_) {
    Status s = firewall_.apply_exit(plan.policy);
    if (!s && (want_table || table_installed_)) return Status::error("exit: " + s.message());
  }
  first_ = false;
  table_installed_ = want_table;
  if (plan.enabled && !applied_.enabled)
    spdlog::info("exit: forwarding {} for {} peer(s) out of {}", plan.offer.families == 0 ? "nothing" :
                 plan.offer.families == (EXIT_IPV4 | EXIT_IPV6) ? "IPv4 and IPv6" :
                 plan.offer.families == EXIT_IPV4 ? "IPv4" : "IPv6",
                 plan.allowed_peers.size(), plan.out_interface);
  applied_ = plan;
  return Status::ok();
}

void ExitServer::shutdown() {
  if (!table_installed_) return;
  if (Status s = firewall_.apply_exit(ExitPolicy{}); !s) spdlog::error("exit: removing table inet {}: {}", EXIT_TABLE, s.message());
  else spdlog::info("exit: forwarding stopped, table inet {} removed", EXIT_TABLE);
  table_installed_ = false;
}

ExitServerStatus ExitServer::status() const {
  ExitServerStatus s;
  s.enabled = applied_.enabled;
  if (!s.enabled) return s;
  s.out_interface = applied_.out_interface;
  s.allowed_peers = applied_.allowed_peers;
  s.ipv4 = applied_.offer.families & EXIT_IPV4;
  s.ipv6 = applied_.offer.families & EXIT_IPV6;
  if (!applied_.ipv4_forwarding) s.problems.push_back("net.ipv4.ip_forward is 0");
  if (applied_.ipv6_wanted && !applied_.ipv6_forwarding) s.problems.push_back("net.ipv6.conf.all.forwarding is 0");
  if (table_installed_) s.counters = firewall_.exit_counts();
  return s;
}

}  // namespace zeq
