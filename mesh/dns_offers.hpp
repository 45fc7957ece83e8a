// DNS through a peer, the mesh's part (docs/protocol.md "Control messages"):
// sending our resolver to a peer inside the tunnel, and checking the offers
// that arrive (well-formed, every resolver inside the offering peer's
// allowed_ips, since a resolver the peer does not route for would send
// names elsewhere) before announcing them to the NetworkPolicy, which
// decides whether to use them. Control thread only.
#pragma once

#include <cstdint>
#include <optional>

#include "core/bytes.hpp"
#include "core/net_address.hpp"
#include "mesh/network_policy.hpp"

namespace zeq {

struct DataPlane;
class Peer;
class SessionManager;

class DnsOffers {
 public:
  // Offers go again this often while a tunnel is up: a lost UDP packet must
  // not leave the peer's names resolving elsewhere for long.
  static constexpr int64_t OFFER_EVERY_Z = 13;

  DnsOffers(const DataPlane& plane, SessionManager& sessions);

  // Our resolver (a host prefix), or none; a reload may change it.
  void set_resolver(std::optional<IpPrefix> resolver) { resolver_ = resolver; }
  void set_policy(NetworkPolicy* policy) { policy_ = policy; }

  // Sends our offer to the peer (nothing without a resolver or a session).
  void offer_to(Peer& peer, int64_t now_us);
  // An in-tunnel control message (plaintext starting 0x01) from the peer.
  void on_control_message(const Peer& peer, ByteSpan plaintext);

 private:
  const DataPlane& plane_;
  SessionManager& sessions_;
  std::optional<IpPrefix> resolver_;
  NetworkPolicy* policy_ = nullptr;
};

}  // namespace zeq
