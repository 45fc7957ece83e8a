#include "daemon/network_guard.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "firewall/boot_rules.hpp"
#include "loader/certificate_files.hpp"

namespace zeq {

NetworkGuard::NetworkGuard(const Config& config, std::unique_ptr<FirewallBackend> firewall,
                           std::unique_ptr<SystemResolver> resolver, std::string boot_rules_path)
    : via_peer_allowed_(config.dns.via_peer), firewall_(std::move(firewall)), resolver_(std::move(resolver)),
      kill_switch_(config.kill_switch.mode), boot_rules_path_(std::move(boot_rules_path)) {
  base_.tun_interface = config.interface.name;
  base_.fwmark = config.kill_switch.fwmark;
  base_.listen_port = config.interface.listen_port;
  base_.allow_lan = config.kill_switch.allow_lan;
}

NetworkGuard::~NetworkGuard() { shutdown(); }

FirewallPolicy NetworkGuard::policy() const {
  FirewallPolicy p = base_;
  p.kill_switch = kill_switch_.armed();
  p.block_dns_leaks = !dns_servers_.empty();
  p.exit_routing = exit_routing_;
  p.block_ipv6_leaks = block_ipv6_;
  return p;
}

Status NetworkGuard::apply() {
  FirewallPolicy want = policy();
  if (applied_ && *applied_ == want) return Status::ok();
  bool was_armed = applied_ && applied_->kill_switch;
  if (Status s = firewall_->apply(want); !s) return s;
  applied_ = want;
  if (want.kill_switch != was_armed)
    spdlog::info("kill switch {} ({})", want.kill_switch ? "armed" : "disarmed", kill_switch_.reason());
  return Status::ok();
}

Status NetworkGuard::start() {
  // A kill switch left armed (not merely a DNS-leak block) by a run that died.
  auto left = firewall_->installed();
  bool leftover = left && *left;
  if (leftover && firewall_->blocked_counts().count("blocked_output") && !kill_switch_.armed()) {
    kill_switch_.operator_arm();
    spdlog::warn("kill switch rules left by an earlier run stay armed; `zeqvpnctl killswitch disarm` releases them");
  }
  // Nothing to install and nothing to clean up: leave nftables alone, so a
  // node without a kill switch runs on kernels without nf_tables too.
  if (!leftover && policy().empty()) {
    applied_ = policy();
    save_boot_rules();
    return Status::ok();
  }
  if (Status s = apply(); !s) return s;
  save_boot_rules();
  return Status::ok();
}

void NetworkGuard::save_boot_rules() {
  if (boot_rules_path_.empty()) return;
  if (kill_switch_.mode() != KillSwitchMode::kAlways) {
    boot_rules_saved_.clear();
    if (::unlink(boot_rules_path_.c_str()) == 0)
      spdlog::info("kill switch: {} removed (mode {}): the next boot is not blocked", boot_rules_path_,
                   to_string(kill_switch_.mode()));
    else if (errno != ENOENT)
      spdlog::error("kill switch: cannot remove {} ({}); the next boot will block traffic until zeqvpnd starts: "
                    "remove the file",
                    boot_rules_path_, std::strerror(errno));
    return;
  }
  // What this daemon arms as it starts: the kill switch with its interface,
  // mark and allow_lan; the DNS, IPv6 and exit rules come with the tunnels.
  FirewallPolicy boot = base_;
  boot.kill_switch = true;
  std::string text = render_boot_nftables(boot);
  if (text == boot_rules_saved_) return;
  if (Status s = replace_file(boot_rules_path_, text, 0600); !s) {
    spdlog::error("kill switch: boot rules not saved: {}; the next boot is unprotected until zeqvpnd starts",
                  s.message());
    return;
  }
  boot_rules_saved_ = std::move(text);
  spdlog::info("kill switch: saved in {} for the next boot (zeqvpn-killswitch.service)", boot_rules_path_);
}

Status NetworkGuard::reconfigure(const Config& config) {
  const KillSwitchState kill_switch_was = kill_switch_;
  const bool allow_lan_was = base_.allow_lan;
  const std::vector<IpPrefix> dns_servers_was = dns_servers_;
  kill_switch_.set_mode(config.kill_switch.mode);
  base_.allow_lan = config.kill_switch.allow_lan;
  // DNS via a peer switched off: the leak block goes with the new rules and
  // the system resolver is restored once they are in.
  const bool stop_dns = !config.dns.via_peer && !dns_servers_.empty();
  if (stop_dns) dns_servers_.clear();
  if (Status s = apply(); !s) {
    kill_switch_ = kill_switch_was;
    base_.allow_lan = allow_lan_was;
    dns_servers_ = dns_servers_was;
    return s;
  }
  via_peer_allowed_ = config.dns.via_peer;
  save_boot_rules();
  if (stop_dns) {
    dns_peer_.clear();
    if (Status s = resolver_->restore(); !s) spdlog::error("{}", s.message());
  }
  return Status::ok();
}

void NetworkGuard::set_tunnels_dropped(bool dropped) {
  kill_switch_.set_tunnels_dropped(dropped);
  if (Status s = apply(); !s) spdlog::error("kill switch: {}", s.message());
}

Status NetworkGuard::arm() {
  kill_switch_.operator_arm();
  return apply();
}

Status NetworkGuard::disarm() {
  kill_switch_.operator_disarm();
  return apply();
}

Status NetworkGuard::use_dns(const std::string& peer_label, const std::vector<IpPrefix>& servers, bool replace) {
  if (!via_peer_allowed_) return Status::error("dns_via_peer is false");
  if (!dns_peer_.empty() && dns_peer_ != peer_label && !replace)
    return Status::error("DNS already goes via " + dns_peer_ + "; one peer's resolver at a time");
  if (dns_servers_ == servers && dns_peer_ == peer_label) return Status::ok();
  // Block leaks first, then switch: no moment where names go out in clear.
  std::vector<IpPrefix> before = dns_servers_;
  dns_servers_ = servers;
  if (Status s = apply(); !s) {
    dns_servers_ = before;
    return s;
  }
  if (Status s = resolver_->point_at(servers); !s) return s;
  dns_peer_ = peer_label;
  std::string list;
  for (const auto& a : servers) list += (list.empty() ? "" : ", ") + a.address();
  spdlog::info("dns: names resolve via {} ({}) through {}; DNS leaving by other interfaces is blocked", peer_label,
               list, resolver_->name());
  return Status::ok();
}

Status NetworkGuard::release_dns() {
  if (dns_servers_.empty()) return Status::ok();
  // The resolver first: while it is restored, the leak block still holds.
  if (Status s = resolver_->restore(); !s) return s;
  std::vector<IpPrefix> before = std::exchange(dns_servers_, {});
  std::string was = std::exchange(dns_peer_, {});
  if (Status s = apply(); !s) {
    dns_servers_ = before;
    dns_peer_ = was;
    return s;
  }
  spdlog::info("dns: no longer via {}; {} restored", was, resolver_->name());
  return Status::ok();
}

Status NetworkGuard::set_exit_protection(bool exit_routing, bool block_ipv6) {
  const bool routing_was = exit_routing_, block_was = block_ipv6_;
  exit_routing_ = exit_routing;
  block_ipv6_ = block_ipv6;
  if (Status s = apply(); !s) {
    exit_routing_ = routing_was;
    block_ipv6_ = block_was;
    return s;
  }
  if (block_ipv6 != block_was)
    spdlog::info("IPv6 outside the tunnel {}", block_ipv6 ? "blocked (the exit carries no IPv6)" : "no longer blocked");
  return Status::ok();
}

void NetworkGuard::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (!dns_servers_.empty()) {
    if (Status s = resolver_->restore(); !s) spdlog::error("{}", s.message());
    else spdlog::info("dns: {} restored", resolver_->name());
    dns_servers_.clear();
  }
  // Exit routing ends with the daemon (exit_client.hpp removes its rules).
  exit_routing_ = block_ipv6_ = false;
  bool stays = kill_switch_.stays_after_exit();
  if (!stays) kill_switch_.operator_disarm();
  if (Status s = apply(); !s) spdlog::error("kill switch: {}", s.message());
  if (stays)
    spdlog::warn("kill switch stays armed after exit ({}); `zeqvpnctl killswitch disarm` releases it", kill_switch_.reason());
}

GuardStatus NetworkGuard::status() const {
  GuardStatus s;
  s.mode = to_string(kill_switch_.mode());
  s.reason = kill_switch_.reason();
  s.armed = applied_ && applied_->kill_switch;
  s.allow_lan = base_.allow_lan;
  s.stays_after_exit = kill_switch_.stays_after_exit();
  auto installed = firewall_->installed();
  s.rules_installed = installed && *installed;
  if (s.rules_installed) s.blocked = firewall_->blocked_counts();
  s.dns_via_peer = !dns_servers_.empty();
  s.ipv6_blocked = applied_ && applied_->block_ipv6_leaks;
  s.dns_peer = dns_peer_;
  s.dns_backend = resolver_->name();
  for (const auto& a : dns_servers_) s.dns_servers.push_back(a.address());
  return s;
}

}  // namespace zeq
