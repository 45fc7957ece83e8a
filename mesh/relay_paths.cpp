// The control thread's side of relayed routes (relay_route.hpp): adding,
// using and removing them, following the way a peer's messages arrive, and
// sending the control thread's own messages (handshakes, keepalives, control
// messages, cover) through a relay. relay/relay_client.cpp decides which
// routes exist; this file only carries them out.
#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

#include "mesh/session_manager.hpp"
#include "protocol/relay_messages.hpp"

namespace zeq {

RelayRoute* SessionManager::route_by_id(Peer& peer, uint64_t route_id) const {
  for (const auto& r : peer.relay_routes)
    if (r->id == route_id) return r.get();
  return nullptr;
}

uint64_t SessionManager::add_relay_route(Peer& peer, Peer& relay, uint32_t channel, bool use) {
  auto route = std::make_shared<RelayRoute>(next_route_id_++, &peer, &relay, relay.serial, channel);
  RelayRoute* r = route.get();
  peer.relay_routes.push_back(std::move(route));
  plane_.publish_table();  // the workers map (relay, channel) to it from now on
  if (use) set_route(peer, r, "relay pair opened");
  return r->id;
}

void SessionManager::remove_relay_route(Peer& peer, uint64_t route_id) {
  auto it = std::find_if(peer.relay_routes.begin(), peer.relay_routes.end(),
                         [&](const auto& r) { return r->id == route_id; });
  if (it == peer.relay_routes.end()) return;
  std::shared_ptr<RelayRoute> gone = std::move(*it);
  peer.relay_routes.erase(it);
  // A route in use gives way to the newest other one, else to the direct
  // path.
  if (peer.route.load(std::memory_order_relaxed) == gone.get())
    set_route(peer, peer.relay_routes.empty() ? nullptr : peer.relay_routes.back().get(), "the route in use closed");
  plane_.publish_table();
  plane_.quiescence.retire(std::move(gone));  // a worker may hold it until its quiescent point
}

bool SessionManager::use_route(Peer& peer, uint64_t route_id) {
  if (route_id == 0) {
    set_route(peer, nullptr, "direct");
    return true;
  }
  RelayRoute* r = route_by_id(peer, route_id);
  if (!r) return false;
  set_route(peer, r, "relay chosen");
  return true;
}

void SessionManager::set_route(Peer& peer, RelayRoute* route, const char* why) {
  if (peer.route.load(std::memory_order_relaxed) == route) return;
  peer.route.store(route, std::memory_order_release);
  if (route)
    spdlog::info("peer {}: packets go through relay {} (channel {}; {})", peer.label(), route->relay->label(),
                 route->channel, why);
  else
    spdlog::info("peer {}: packets go directly to {} ({})", peer.label(), peer.endpoint.load().to_string(), why);
}

void SessionManager::handshake_now(Peer& peer) {
  peer.next_retry_us = 0;
  initiate(peer, clock_.mono_us());
}

void SessionManager::take_path(Peer& peer, const UdpEndpoint& from, RelayRoute* via) {
  if (via) {
    if (peer.settings.via != PeerPath::kDirect) set_route(peer, via, "its handshake came that way");
    return;
  }
  peer.endpoint.store(from);
  if (peer.settings.via != PeerPath::kRelay) set_route(peer, nullptr, "its handshake came directly");
}

void SessionManager::follow_arrival(Peer& peer) {
  const uint64_t by = peer.arrived_by.load(std::memory_order_relaxed);
  RelayRoute* current = peer.route.load(std::memory_order_relaxed);
  if (by == (current ? current->id : 0)) return;
  if (by == 0) {
    if (peer.settings.via == PeerPath::kRelay || peer.endpoint.load().empty()) return;
    set_route(peer, nullptr, "its packets arrive directly");
  } else if (RelayRoute* r = route_by_id(peer, by); r && peer.settings.via != PeerPath::kDirect) {
    set_route(peer, r, "its packets arrive that way");
  }
}

bool SessionManager::send_via(const UdpEndpoint& to, RelayRoute* via, ByteSpan message) {
  if (!via) return send_(message, to);
  Peer& relay = *via->relay;
  Keypair* kp = relay.current.load(std::memory_order_acquire);
  const UdpEndpoint relay_ep = relay.endpoint.load();
  const int64_t now = clock_.mono_us();
  if (!kp || kp->expired(now) || kp->exhausted() || relay_ep.empty()) {
    plane_.control_counters().drop(Drop::kRelayNoSession);
    return false;
  }
  if (message.size() + RELAY_OVERHEAD > relay_scratch_.size()) return false;
  std::memcpy(relay_scratch_.data() + RELAY_OVERHEAD, message.data(), message.size());
  const uint64_t counter = kp->next_counter();
  if (counter >= REKEY_AFTER_MESSAGES) return false;
  if (!seal_relay_data(kp->sealer(plane_.control_slot()), via->channel, kp->remote_index, counter,
                       relay_scratch_.data(), message.size())) {
    kp->return_counter(counter);
    plane_.control_counters().drop(Drop::kSealFailed);
    return false;
  }
  const size_t len = RELAY_OVERHEAD + message.size();
  if (!send_(ByteSpan(relay_scratch_.data(), len), relay_ep)) return false;
  via->tx_bytes.fetch_add(message.size(), std::memory_order_relaxed);
  relay.tx_bytes.fetch_add(len, std::memory_order_relaxed);
  relay.tx_packets.fetch_add(1, std::memory_order_relaxed);
  relay.last_tx_us.store(now, std::memory_order_relaxed);
  return true;
}

}  // namespace zeq
