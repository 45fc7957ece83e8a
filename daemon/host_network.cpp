#include "daemon/host_network.hpp"

#include <spdlog/spdlog.h>

#include "daemon/exit_client.hpp"
#include "daemon/network_guard.hpp"
#include "store/vault.hpp"

namespace zeq {

HostNetwork::HostNetwork(NetworkGuard& guard, Vault* vault, const Clock& clock)
    : guard_(guard), vault_(vault), clock_(clock) {}

void HostNetwork::tunnels_dropped(bool dropped) { guard_.set_tunnels_dropped(dropped); }

bool HostNetwork::wants_dns_offers() const { return guard_.dns_via_peer_allowed(); }

void HostNetwork::exit_offered(const std::string& peer_label, const std::string& peer_zid, uint8_t families) {
  if (exit_) exit_->exit_offered(peer_label, peer_zid, families);
}

void HostNetwork::dns_offered(const std::string& peer_label, const std::string& peer_zid,
                             const std::vector<IpPrefix>& resolvers) {
  // The exit's resolver wins: names resolve where the traffic leaves.
  const bool from_exit = exit_ && !exit_->exit_zid().empty() && exit_->exit_zid() == peer_zid;
  if (exit_ && !from_exit && !exit_->exit_label().empty() && guard_.dns_peer() == exit_->exit_label()) {
    spdlog::debug("peer {}: DNS offer ignored; names resolve via the exit {}", peer_label, guard_.dns_peer());
    return;
  }
  if (!from_exit && !guard_.dns_peer().empty() && guard_.dns_peer() != peer_label) {
    // Offers repeat every few Zeqonds: one line at debug, not a warning each time.
    spdlog::debug("peer {}: DNS offer ignored; names already resolve via {}", peer_label, guard_.dns_peer());
    return;
  }
  remember_offer(peer_label, peer_zid, resolvers);
  if (Status s = guard_.use_dns(peer_label, resolvers, from_exit); !s)
    spdlog::warn("dns: offer from {} not used: {}", peer_label, s.message());
}

void HostNetwork::remember_offer(const std::string& peer_label, const std::string& peer_zid,
                                const std::vector<IpPrefix>& resolvers) {
  std::string text;
  for (const auto& r : resolvers) text += (text.empty() ? "" : " ") + r.to_string();
  const std::string name = "dns." + peer_zid;
  if (!vault_ || stored_offers_[name] == text) return;
  Status s = vault_->put(name, as_bytes(text), {"dns.resolver", peer_zid, 0}, "zeqvpnd", clock_.zeqond());
  if (!s) spdlog::warn("state: storing the resolver of {}: {}", peer_label, s.message());
  else stored_offers_[name] = text;
}

}  // namespace zeq
