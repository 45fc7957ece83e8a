// The daemon's answer to the network policy the node asks for
// (NetworkPolicy): "a tunnel dropped" goes to the kill switch, and a peer's
// DNS offer, when this node takes it, into the vault and to the network
// guard (resolver and DNS-leak block). With the TunnelRecorder (tunnel rows)
// this is where mesh/ meets SQLite, nftables and resolv.conf, so mesh/ never
// has to. Control thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "mesh/network_policy.hpp"

namespace zeq {

class ExitClient;
class NetworkGuard;
class Vault;

class HostNetwork final : public NetworkPolicy {
 public:
  // vault may be null (no state store): offers are then not remembered.
  HostNetwork(NetworkGuard& guard, Vault* vault, const Clock& clock);

  void tunnels_dropped(bool dropped) override;
  bool wants_dns_offers() const override;
  // Names resolve via one peer at a time, and only with dns_via_peer.
  void dns_offered(const std::string& peer_label, const std::string& peer_zid,
                   const std::vector<IpPrefix>& resolvers) override;
  // Exit offers go to the exit client, which also makes the exit's DNS
  // offer win over any other peer's. May stay null (no exit client).
  void exit_offered(const std::string& peer_label, const std::string& peer_zid, uint8_t families) override;
  void set_exit_client(ExitClient* exit) { exit_ = exit; }

 private:
  // The offered resolver is kept in the vault (dns.<zid>), never in the
  // environment or the YAML; offers repeat, so only a change is written
  // (and audited).
  void remember_offer(const std::string& peer_label, const std::string& peer_zid,
                      const std::vector<IpPrefix>& resolvers);

  NetworkGuard& guard_;
  Vault* vault_;
  const Clock& clock_;
  ExitClient* exit_ = nullptr;
  std::map<std::string, std::string> stored_offers_;  // vault name -> what it holds
};

}  // namespace zeq
