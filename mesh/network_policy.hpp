// What the node asks of the host's network outside the tunnel. mesh/ only
// announces; the daemon decides and acts (the nftables kill switch, pointing
// the system resolver at a peer, keeping the offer in the vault), so mesh/
// never touches nftables, resolv.conf or SQLite. Called on the control
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/net_address.hpp"

namespace zeq {

class NetworkPolicy {
 public:
  virtual ~NetworkPolicy() = default;
  // Whether some peer that carries routes has lost its tunnel (handshakes
  // gave up); the kill switch's on_drop mode follows it. Called on every
  // timer tick: act on changes only.
  virtual void tunnels_dropped(bool dropped) = 0;
  // Whether offered resolvers are wanted at all (dns_via_peer); offers are
  // not checked otherwise.
  virtual bool wants_dns_offers() const = 0;
  // The peer offered its resolvers inside the tunnel; every address lies in
  // that peer's allowed_ips (checked before the call).
  virtual void dns_offered(const std::string& peer_label, const std::string& peer_zid,
                           const std::vector<IpPrefix>& resolvers) = 0;
  // The peer offered to be an exit for these families (EXIT_IPV4 |
  // EXIT_IPV6 of protocol/control_message.hpp; 0: withdrawn). Offers repeat
  // every few Zeqonds: act on changes only.
  virtual void exit_offered(const std::string& peer_label, const std::string& peer_zid, uint8_t families) = 0;
};

}  // namespace zeq
