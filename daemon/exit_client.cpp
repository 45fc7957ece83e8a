#include "daemon/exit_client.hpp"

#include <spdlog/spdlog.h>

#include "daemon/mesh_settings.hpp"
#include "daemon/network_guard.hpp"
#include "mesh/node.hpp"
#include "protocol/control_message.hpp"
#include "tun/sysctl.hpp"

namespace zeq {

namespace {

constexpr char SRC_VALID_MARK[] = "net.ipv4.conf.all.src_valid_mark";

std::string families(bool v4, bool v6) {
  if (v4 && v6) return "IPv4 and IPv6";
  return v4 ? "IPv4" : v6 ? "IPv6" : "nothing";
}

// The file's exit as the operator would name it.
std::string configured_exit(const Config& config) {
  auto i = exit_peer_index(config);
  if (!i) return "";
  const PeerConfig& p = config.peers[*i];
  return p.name.empty() ? p.zid : p.name;
}

}  // namespace

ExitClient::ExitClient(Node& node, NetworkGuard& guard, int tun_ifindex)
    : node_(node), guard_(guard), ifindex_(tun_ifindex) {}

ExitClient::Choice ExitClient::choice_of(const Config& config, const std::string& peer) const {
  Choice c;
  c.peer = peer;
  if (peer.empty()) return c;
  for (const auto& p : config.peers) {
    if (p.name != peer && p.zid != peer) continue;
    c.zid = p.zid;
    c.label = peer_settings(p).label();
    for (const auto& a : p.allowed_ips) {
      if (a.length != 0) continue;
      (a.family == 4 ? c.yaml_v4 : c.yaml_v6) = true;
    }
  }
  return c;
}

Status ExitClient::start(const Config& config) {
  config_ = config;
  configured_ = configured_exit(config);
  auto removed = remove_exit_routing(exit_route_table(config));
  if (!removed) {
    // A node that uses no exit runs without policy routing support too.
    if (!configured_.empty()) return Status::error("exit: " + removed.message());
    spdlog::debug("exit: checking for rules an earlier run left: {}", removed.message());
  } else if (*removed > 0) {
    spdlog::warn("exit: removed {} rule(s) and route(s) an earlier run left behind (table {})", *removed,
                 exit_route_table(config));
  }
  return apply(choice_of(config, configured_));
}

Status ExitClient::reconfigure(const Config& config) {
  const std::string file_choice = configured_exit(config);
  const bool file_changed = file_choice != configured_;
  // The operator's choice holds until the file names another exit.
  const std::string peer = file_changed || chosen_by_ == "config" ? file_choice : current_.peer;
  if (!peer.empty() && choice_of(config, peer).zid.empty())
    spdlog::warn("exit: {} is no longer a peer; no exit in use", peer);
  Config was = config_;
  config_ = config;
  if (Status s = apply(choice_of(config, peer)); !s) {
    config_ = was;
    return s;
  }
  if (file_changed) chosen_by_ = "config";
  configured_ = file_choice;
  return Status::ok();
}

Status ExitClient::use(const std::string& peer) {
  if (Status known = node_.check_peer(peer); !known) return known;
  if (config_.exit.enabled)
    return Status::error("this node is an exit (exit.enabled in " + config_.source + "); a node is an exit or uses one");
  // Node::use_exit refuses a peer while another holds the default routes.
  if (Status s = apply(choice_of(config_, peer)); !s) return s;
  chosen_by_ = "operator";
  return Status::ok();
}

Status ExitClient::off() {
  if (Status s = apply(Choice{}); !s) return s;
  chosen_by_ = "operator";
  return Status::ok();
}

void ExitClient::exit_offered(const std::string& peer_label, const std::string& peer_zid, uint8_t offered) {
  (void)peer_label;
  uint8_t& held = offers_[peer_zid];
  if (held == offered) return;
  held = offered;
  // Only the offer of the exit in use changes anything, and only when its
  // allowed_ips do not already say which families it carries.
  if (peer_zid != current_.zid || !offer_needed_) return;
  if (bool(offered & EXIT_IPV6) == routing_.ipv6) return;
  if (Status s = apply(current_); !s) spdlog::error("exit: following {}'s offer: {}", current_.label, s.message());
}

Status ExitClient::apply(const Choice& c) {
  ExitRouting want;
  want.ifindex = ifindex_;
  want.table = exit_route_table(config_);
  want.fwmark = config_.kill_switch.fwmark;
  want.allow_lan = config_.kill_switch.allow_lan;
  bool offer_needed = false;
  if (!c.zid.empty()) {
    if (c.yaml_v4 || c.yaml_v6) {
      want.ipv4 = c.yaml_v4;
      want.ipv6 = c.yaml_v6;
    } else {
      // IPv4 goes into the tunnel even before the exit's offer arrives: an
      // exit that does not forward it drops it there, which fails closed.
      offer_needed = true;
      want.ipv4 = true;
      auto it = offers_.find(c.zid);
      want.ipv6 = it != offers_.end() && (it->second & EXIT_IPV6);
    }
  }
  const bool block = !c.zid.empty() && !want.ipv6 && config_.exit_client.block_ipv6_leaks;
  const bool routed = want.ipv4 || want.ipv6, was_routed = routing_.ipv4 || routing_.ipv6;
  const Choice before = current_;

  // The node's cryptokey routes, then the firewall with the union of the old
  // and new protections, then the kernel's routing, then the firewall as it
  // should end up: at no step can a packet leave outside the tunnel that
  // neither the old nor the new state lets out.
  if (Status s = node_.use_exit(c.zid, want.ipv4, want.ipv6); !s) return Status::error("exit: " + s.message());
  auto undo_node = [&] { (void)node_.use_exit(before.zid, routing_.ipv4, routing_.ipv6); };
  if (Status s = guard_.set_exit_protection(routed || was_routed, block || ipv6_blocked_); !s) {
    undo_node();
    return Status::error("exit: " + s.message());
  }
  if (routed || was_routed || want != routing_) {
    if (Status s = apply_exit_routing(want); !s) {
      (void)apply_exit_routing(routing_);
      (void)guard_.set_exit_protection(was_routed, ipv6_blocked_);
      undo_node();
      return Status::error("exit: " + s.message());
    }
  }
  if (Status s = guard_.set_exit_protection(routed, block); !s) spdlog::error("exit: {}", s.message());

  if (want.ipv4 && !restore_src_valid_mark_) {
    // Strict reverse-path filtering looks replies from the exit up with their
    // mark (restored from conntrack) only when this is on, as wg-quick does.
    auto v = read_sysctl(SRC_VALID_MARK);
    if (v && *v == 0) {
      if (Status s = write_sysctl(SRC_VALID_MARK, 1); !s) spdlog::warn("exit: {}", s.message());
      else restore_src_valid_mark_ = true;
    }
  }
  if (c.zid != before.zid || want != routing_) {
    if (c.zid.empty()) spdlog::info("exit: none; traffic outside the mesh leaves directly");
    else
      spdlog::info("exit: {} goes via {} (routing table {}, rules {} and {}){}", families(want.ipv4, want.ipv6), c.label,
                   want.table, RULE_PRIORITY_LAN, RULE_PRIORITY_EXIT,
                   block ? "; IPv6 outside the tunnel is blocked" : "");
  }
  // DNS through the old exit's resolver may be out of reach now.
  if (!before.label.empty() && before.zid != c.zid && guard_.dns_peer() == before.label)
    if (Status s = guard_.release_dns(); !s) spdlog::error("exit: {}", s.message());
  current_ = c;
  routing_ = want;
  ipv6_blocked_ = block;
  offer_needed_ = offer_needed;
  return Status::ok();
}

void ExitClient::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (routing_.ipv4 || routing_.ipv6) {
    auto removed = remove_exit_routing(routing_.table);
    if (!removed) spdlog::error("exit: {}", removed.message());
    else spdlog::info("exit: routing rules and table {} removed", routing_.table);
  }
  if (Status s = guard_.set_exit_protection(false, false); !s) spdlog::error("exit: {}", s.message());
  if (restore_src_valid_mark_)
    if (Status s = write_sysctl(SRC_VALID_MARK, 0); !s) spdlog::warn("exit: {}", s.message());
  routing_ = ExitRouting{};
  current_ = Choice{};
}

ExitClientStatus ExitClient::status() const {
  ExitClientStatus s;
  s.exit = current_.label;
  s.exit_zid = current_.zid;
  s.chosen_by = chosen_by_;
  s.ipv4 = routing_.ipv4;
  s.ipv6 = routing_.ipv6;
  s.ipv6_blocked = ipv6_blocked_;
  s.offer_needed = offer_needed_;
  auto it = offers_.find(current_.zid);
  s.offered = it == offers_.end() ? 0 : it->second;
  s.table = exit_route_table(config_);
  if (auto installed = installed_exit_routing(s.table)) s.installed = *installed;
  return s;
}

}  // namespace zeq
