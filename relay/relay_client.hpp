// The client side of relays: which relays this node may use (peers marked
// is_relay: YAML `relays:`), how far away each is (pings, which also bring
// its price), when a peer goes through one (`via: relay`, or `via: auto`
// after relay_choice.direct_attempts unanswered handshakes), which one (the
// lowest round trip among those priced at most max_price), and failover:
// when the relay in use stops answering for RELAY_DEAD_AFTER, its peers are
// moved to the next relay, keeping their end-to-end keys (the route changes,
// the session does not). It also answers a relay that offers a pair on a
// peer's behalf (accepted only for a peer this node knows), keeps the
// accounting of its pairs (RelayEvents) and signs usage receipts for the
// pairs it asked for. Control thread only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/random.hpp"
#include "mesh/node.hpp"
#include "mesh/relay_listener.hpp"
#include "protocol/relay_messages.hpp"
#include "relay/path_advisor.hpp"
#include "relay/relay_events.hpp"

namespace zeq {

struct RelayClientSettings {
  std::optional<uint64_t> max_price;  // nullopt: any
  int direct_attempts = 2;
  Ed25519Keypair signing;             // usage receipts (node_signing_keypair)
};

class RelayClient final : public RelayListener {
 public:
  // A relay in use is dead when nothing came from it for this long (or four
  // of its round trips, if longer) although it was pinged meanwhile; its
  // peers move to another relay. Half a Zeqond, so a failover (detection,
  // then one Open to the next relay) takes well under 2 Zeqonds.
  static constexpr int64_t RELAY_DEAD_AFTER_US = TAU_ZQ_US / 2;
  // Pings: every relay every 8 Zeqonds (round trip and price for `zeqvpnctl
  // relays`, and a warm session for failover); a relay in use besides, every
  // tick (an eighth of a Zeqond) while nothing comes from it, so a silent
  // relay is probed, a busy one costs nothing.
  static constexpr int64_t PING_IDLE_US = 8 * TAU_ZQ_US;
  static constexpr int64_t PROBE_EVERY_US = TAU_ZQ_US / 8;
  // An Open not answered within this is given up, and the next relay tried.
  static constexpr int64_t OPEN_TIMEOUT_US = TAU_ZQ_US;
  // A relay that refused a peer is not asked for it again for this long,
  // doubled with every refusal in a row up to REFUSED_BACKOFF_MAX_US.
  static constexpr int64_t REFUSED_BACKOFF_US = 13 * TAU_ZQ_US;
  static constexpr int64_t REFUSED_BACKOFF_MAX_US = 386 * TAU_ZQ_US;
  // A usage receipt per pair we asked for, this often, and when it ends.
  static constexpr uint64_t RECEIPT_EVERY_Z = 13;
  // Relays from the mesh directory this node keeps sessions with (and uses):
  // the first by ZID, so every node of the mesh picks the same ones and a
  // pair's two ends share them. Relays named in the YAML are all used.
  static constexpr size_t MAX_DIRECTORY_RELAYS = 4;
  // A pair we asked for whose route has not been the one in use for this
  // long (the direct path works again, or the peer's own pair is used) is
  // closed.
  static constexpr uint64_t UNUSED_PAIR_Z = 13;
  // The end that did not ask for a pair fails over itself only when its
  // relay has been dead this long (the requester normally does it first).
  static constexpr int64_t TARGET_FAILOVER_GRACE_US = 2 * TAU_ZQ_US;

  RelayClient(Node& node, const Clock& clock, RandomSource& random, RelayClientSettings settings, RelayEvents* events);

  void tunnel_up(Peer& peer) override;
  void tunnel_down(Peer& peer, const char* reason) override;
  void relay_control(Peer& peer, ByteSpan plaintext) override;
  void relay_tick() override;
  // Asks the relay to close a pair we have no route for (at most once a
  // Zeqond per relay).
  void unknown_channel(Peer& relay, uint32_t channel) override;
  // Ends every pair (daemon stopping): Close sent, accounting settled.
  void close_all(const char* reason);

  struct RelayView {
    std::string name, zid, endpoint;
    bool session = false, alive = false, priced = false;
    int64_t rtt_us = -1;
    PricingUnit unit = PricingUnit::kGb;
    uint64_t price = 0;
    std::string region;
    size_t pairs = 0;            // ours through it
    bool within_max_price = true;
  };
  std::vector<RelayView> relays() const;
  struct PairView {
    uint64_t id = 0;
    std::string peer, relay;     // labels
    uint32_t channel = 0;
    bool requester = false, in_use = false;
    RelayedBytes bytes;
    uint64_t started_z = 0;
  };
  std::vector<PairView> pairs() const;
  // For status: a relay's measured round trip (-1: not measured).
  int64_t relay_rtt_us(uint64_t relay_serial) const;
  uint64_t failovers() const { return failovers_; }
  // NAT traversal's word on direct paths (may be null; must outlive this).
  void set_path_advisor(const PathAdvisor* advisor) { advisor_ = advisor; }

 private:
  struct RelayState {
    int64_t rtt_us = -1;
    int64_t ping_sent_us = 0;
    uint64_t ping_nonce = 0;
    bool priced = false;
    PricingUnit unit = PricingUnit::kGb;
    uint64_t price = 0;
    std::string region;
    bool dead = false;
    int64_t dead_since_us = 0;
    int64_t handshake_try_us = 0;  // the last handshake_now for a relay that gave up
    int64_t stale_close_us = 0;    // the last Close for a channel we had no route for
    int64_t asked_since_us = 0;    // the first ping after the relay's last packet (0: none)
  };
  struct Opening {           // an Open in flight for a peer
    uint64_t relay = 0;
    uint32_t request_id = 0;
    int64_t asked_us = 0;
  };
  struct ClientPair {
    uint64_t id = 0;
    uint64_t peer = 0, relay = 0;  // serials
    uint32_t channel = 0;
    uint64_t route_id = 0;
    bool requester = false;
    RelayedPair info;
    uint64_t receipt_z = 0;
    uint64_t used_z = 0;  // the last Zeqond its route was the one in use
  };
  void on_opened(Peer& relay, const RelayOpened& m);
  void on_refused(Peer& relay, const RelayRefused& m);
  void on_offer(Peer& relay, const RelayOffer& m);
  void on_close(Peer& relay, const RelayClose& m);
  void on_pong(Peer& relay, const RelayPong& m);
  void ping_relays(int64_t now);
  // The relays in use: every YAML relay, and MAX_DIRECTORY_RELAYS of the
  // directory's; relays_ follows this list.
  std::vector<Peer*> usable_relays() const;
  // Pairs whose far end is gone (removed by a reload, left the directory).
  void end_orphaned_pairs();
  void watch_relays(int64_t now);
  bool in_use(uint64_t relay_serial) const;
  int64_t dead_after_us(const RelayState& st) const {
    return std::max(RELAY_DEAD_AFTER_US, 4 * st.rtt_us);
  }
  void open_wanted(int64_t now);
  bool wants_relay(const Peer& peer, int64_t now) const;
  bool has_usable_route(const Peer& peer) const;
  std::optional<uint64_t> choose_relay(const Peer& peer, int64_t now) const;
  bool affordable(const RelayState& r) const;
  // Ends one of our pairs: the route goes, Close is sent (tell_relay),
  // accounting settled.
  void end_pair(uint64_t id, const char* reason, bool tell_relay);
  RelayedBytes bytes_of(const ClientPair& p) const;
  void send_receipt(const ClientPair& p);

  Node& node_;
  const Clock& clock_;
  RandomSource& random_;
  RelayClientSettings settings_;
  RelayEvents* events_;
  std::map<uint64_t, RelayState> relays_;        // by relay peer serial
  std::map<uint64_t, Opening> opening_;          // by far-end peer serial
  struct Refusal {
    int64_t until_us = 0;
    int count = 0;  // in a row
  };
  std::map<std::pair<uint64_t, uint64_t>, Refusal> refused_;  // by (peer, relay) serials
  // Notes a refusal (or an Open unanswered) and returns how many in a row.
  int note_refusal(uint64_t peer, uint64_t relay, int64_t now, int64_t first_wait_us);
  std::map<uint64_t, ClientPair> pairs_;         // by id
  // Peers whose pair in use ended under them (the relay closed it or went):
  // they go through a relay again at once, whatever their session says,
  // until this time.
  std::map<uint64_t, int64_t> relay_again_until_;  // by peer serial
  uint64_t next_pair_id_ = 1;
  uint32_t next_request_id_ = 1;
  uint64_t failovers_ = 0;
  int ticks_ = 0;
  const PathAdvisor* advisor_ = nullptr;
};

}  // namespace zeq
