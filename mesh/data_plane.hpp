// What the data-plane workers share with the control thread: the peer table
// (peers and the cryptokey routes that pick them), the index table, counters.
// The control thread owns the peers and replaces the table as a whole when the
// peer set changes (reload, add, remove); workers read the published table
// without locks and the old one is freed through Quiescence.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/hash.hpp"
#include "mesh/allowed_ips.hpp"
#include "mesh/control_inbox.hpp"
#include "mesh/counters.hpp"
#include "mesh/handshake_guard.hpp"
#include "mesh/index_table.hpp"
#include "mesh/peer.hpp"
#include "mesh/quiescence.hpp"
#include "mesh/relay_switch.hpp"
#include <set>
#include <unordered_map>
#include <utility>

namespace zeq {

// An immutable snapshot: the routes' values index `peers`.
struct PeerTable {
  std::vector<Peer*> peers;
  AllowedIps routes;
  // Every peer's relayed routes, by relay_route_key(relay serial, channel).
  std::unordered_map<uint64_t, RelayRoute*> relay_routes;

  RelayRoute* relay_route(uint64_t relay_serial, uint32_t channel) const {
    if (relay_routes.empty()) return nullptr;
    auto it = relay_routes.find(relay_route_key(relay_serial, channel));
    return it == relay_routes.end() ? nullptr : it->second;
  }

  Peer* lookup(int family, const uint8_t* address) const {
    int i = routes.lookup(family, address);
    return i < 0 ? nullptr : peers[size_t(i)];
  }
};

struct DataPlane {
  DataPlane(int worker_count, int tun_mtu);
  ~DataPlane();

  const int workers;
  const int mtu;
  // A relayed peer's path MTU: RELAY_OVERHEAD less than the interface's
  // unless that still fits a 1500-byte underlay (relayed_path_mtu).
  const size_t relayed_mtu;
  IndexTable index;
  Quiescence quiescence;
  Digest32 own_mac1_key{};
  // Load-time defence for handshake messages (cookies, mac2, rate limits).
  std::unique_ptr<HandshakeGuard> handshake_guard;
  ControlInbox* inbox = nullptr;
  // One per worker, then one for the control thread's own sends.
  std::vector<WorkerCounters> counters;
  // Every peer's held packets (Peer::staged) count against it.
  std::shared_ptr<StagedBudget> staged_budget = std::make_shared<StagedBudget>();
  WorkerCounters& control_counters() { return counters.back(); }

  // ---- control thread only ----
  std::vector<std::unique_ptr<Peer>> peers;
  // Creates a peer (with a serial never used before) and appends it; call
  // publish_table() once the batch of changes is done.
  Peer& add_peer(const PeerSettings& settings);
  // Unlists the peer and retires it; its keys must be retired already.
  void remove_peer(Peer& peer);
  // The same for many, with one table published for the batch.
  void remove_peers(const std::vector<Peer*>& gone);
  // Takes away every peer's routes through these relays (being removed).
  void drop_routes_via(const std::set<const Peer*>& relays);
  // Rebuilds the table from `peers` and swaps it in for the workers.
  void publish_table();
  // The prefixes cryptokey routing gives the peer: its effective_allowed_ips,
  // and for a peer admitted by certificate alone, without a default route
  // and without any prefix a YAML peer's prefix covers (a certificate never
  // displaces a peer the operator named).
  // `yaml` is yaml_prefixes(), computed once for a pass over every peer.
  std::vector<IpPrefix> routable_prefixes(const Peer& peer, const std::vector<IpPrefix>& yaml) const;
  std::vector<IpPrefix> routable_prefixes(const Peer& peer) const { return routable_prefixes(peer, yaml_prefixes()); }
  // Every prefix the YAML's peers hold (narrowed by their certificates).
  std::vector<IpPrefix> yaml_prefixes() const;
  // The exit in use (serial; 0: none) gets the default routes of the
  // families asked for in the table, besides its own allowed_ips, so that
  // everything is sent to it and it may send from anywhere.
  uint64_t exit_serial = 0;
  bool exit_ipv4 = false, exit_ipv6 = false;
  // O(1) through indexes kept by add_peer and remove_peer(s) (the NAT and
  // directory ticks ask for every peer by serial, control messages and
  // handshakes by ZID: linear lookups made a tick O(peers²) in a large
  // mesh). A name, which a reload may change, is still found by a scan.
  Peer* find_by_serial(uint64_t serial) const;
  Peer* find(const std::string& name_or_zid) const;

  // The relay role: relayed messages are forwarded by this table, not
  // opened (null: not a relay, or no pairs). Control thread: publish.
  bool relay_role = false;
  void publish_relay_switch(std::shared_ptr<const RelaySwitchTable> next) {
    relay_switch_.store(next.get(), std::memory_order_release);
    quiescence.retire(std::const_pointer_cast<RelaySwitchTable>(std::exchange(relay_switch_owned_, std::move(next))));
  }
  const RelaySwitchTable* relay_switch() const { return relay_switch_.load(std::memory_order_acquire); }

  // ---- workers ----
  // Workers load it once per batch; valid until the worker's next
  // quiescent point.
  const PeerTable* table() const { return table_.load(std::memory_order_acquire); }

  // Slot of the control thread's AEAD contexts in every Keypair.
  int control_slot() const { return workers; }

  // Flags the peer for the control thread, posting at most one wake-up.
  void request_attention(Peer& peer, bool handshake) {
    if (handshake) peer.wants_handshake.store(true, std::memory_order_relaxed);
    if (!peer.wants_attention.exchange(true, std::memory_order_seq_cst)) inbox->peer_needs_attention(peer.serial);
  }

 private:
  std::atomic<const PeerTable*> table_{nullptr};
  std::shared_ptr<PeerTable> table_owned_;
  std::atomic<const RelaySwitchTable*> relay_switch_{nullptr};
  std::shared_ptr<const RelaySwitchTable> relay_switch_owned_;
  uint64_t next_serial_ = 1;
  void unindex(const Peer& peer);
  std::unordered_map<uint64_t, Peer*> by_serial_;
  std::unordered_map<std::string, Peer*> by_zid_;  // the first peer of a ZID
};

}  // namespace zeq
