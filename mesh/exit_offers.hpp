// Exit offers, the mesh's part (docs/protocol.md "Control messages", 0x02):
// an exit node tells each peer it forwards for which families it carries out
// (when the tunnel comes up, every 13 Zeqonds, and at once when that
// changes; families 0 once when a reload takes the peer off the list), and
// every node keeps the offers it received and announces them to the
// NetworkPolicy, which decides what to route (daemon/exit_client.hpp).
// Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "mesh/network_policy.hpp"
#include "mesh/node_settings.hpp"

namespace zeq {

class Peer;
class SessionManager;

class ExitOffers {
 public:
  explicit ExitOffers(SessionManager& sessions) : sessions_(sessions) {}

  void set_policy(NetworkPolicy* policy) { policy_ = policy; }
  // What this node offers (a reload may change it): peers whose offer
  // changed hear at once, peers taken off the list hear families 0.
  void set_offer(const ExitOfferSettings& offer, const std::vector<std::unique_ptr<Peer>>& peers, int64_t now_us);
  // Sends our offer to the peer when it is on the list (nothing otherwise).
  void offer_to(Peer& peer, int64_t now_us);
  // An in-tunnel exit offer (plaintext 01 02 ...) from the peer.
  void on_control_message(const Peer& peer, ByteSpan plaintext);

  // For status: the families the peer offered us, and those we offer it.
  uint8_t received_from(const std::string& zid) const;
  uint8_t offered_to(const std::string& zid) const;

 private:
  SessionManager& sessions_;
  NetworkPolicy* policy_ = nullptr;
  ExitOfferSettings offer_;
  std::map<std::string, uint8_t> received_;  // by the offering peer's ZID
};

}  // namespace zeq
