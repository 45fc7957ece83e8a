// NAT traversal (docs/protocol.md "NAT traversal"): endpoint discovery, the
// rendezvous through a relay, hole punching, the move to the direct path
// and back, and what status shows of it. Control thread only.
//
// - Discovery: every relay we have a session with is asked (Observe) from
//   which address:port it sees us, every OBSERVE_EVERY_US and at once after a
//   local address changed; peers answering our probes say it too. The
//   answers give this node's NAT type (protocol/nat_type.hpp) and the
//   reported endpoints it publishes in its directory record.
// - Rendezvous: a peer whose packets go through a relay, with a session
//   up, gets our Candidates (NAT type, observed and local endpoints) inside
//   our session with it, which goes through the relay; its answer carries
//   its own. Both then punch (HolePunch): probes under the end-to-end
//   session, straight to every candidate, for a bounded time with backoff.
// - Upgrade: the first probe that arrives directly moves the receiver's
//   route to the direct path (mesh roaming, SessionManager::follow_arrival);
//   the prober moves when the reply, sent straight back, arrives. Same
//   end-to-end session, same counters: nothing is lost or re-handshaked.
//   The relay pair stays open, unused, as a standby (PathAdvisor).
// - Fallback: on the direct path, probes every DIRECT_PROBE_EVERY_US while
//   no reply came; none for DIRECT_DEAD_AFTER_US and packets go back through
//   the relay; the far end follows when they arrive that way.
// - Both ends behind symmetric NATs: no punching (it cannot meet); the peer
//   stays relayed and status says why.
// - Roaming: addresses_changed() (a netlink event, tun/address_monitor.hpp)
//   re-handshakes every session at once, asks the relays again and starts
//   the punching over; the daemon republishes the directory record.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/net_address.hpp"
#include "crypto/random.hpp"
#include "mesh/nat_listener.hpp"
#include "mesh/node.hpp"
#include "protocol/nat_messages.hpp"
#include "relay/hole_punch.hpp"
#include "relay/path_advisor.hpp"

namespace zeq {

struct NatTraversalSettings {
  // A relay answers Observe and probes, and does nothing else.
  bool relay_role = false;
  // This node's own endpoints (its addresses with the listen port).
  std::function<std::vector<UdpEndpoint>()> local_endpoints;
};

class NatTraversal final : public NatListener, public PathAdvisor {
 public:
  static constexpr int64_t OBSERVE_EVERY_US = 8 * TAU_ZQ_US;
  // An observation older than this no longer counts.
  static constexpr int64_t OBSERVATION_MAX_AGE_US = 64 * TAU_ZQ_US;
  // Rendezvous waits for two relays' views (or this long after start).
  static constexpr int64_t VIEWS_WAIT_US = 3 * TAU_ZQ_US;

  NatTraversal(Node& node, const Clock& clock, RandomSource& random, NatTraversalSettings settings);

  void nat_control(Peer& peer, ByteSpan plaintext) override;
  void nat_tick() override;
  bool keep_pair(const Peer& peer) const override;
  bool direct_died(const Peer& peer) const override;
  // A local address or route changed (netlink): re-handshake, ask again.
  void addresses_changed();
  // Runs when the reported endpoints change (the daemon republishes its
  // directory record).
  void set_endpoints_changed_hook(std::function<void()> hook) { endpoints_changed_ = std::move(hook); }

  NatType nat_type() const;
  // What observers saw, distinct (the directory record's reported endpoints).
  std::vector<UdpEndpoint> reported_endpoints() const;
  struct PeerView {
    std::string phase;                 // idle, asked, punching, direct, failed, symmetric
    std::string peer_nat;              // the NAT type the peer reported
    std::vector<std::string> candidates;
    int64_t direct_us = 0, relayed_us = 0, relayed_tcp_us = 0;  // relayed_us: over UDP
    uint64_t upgrades = 0, fallbacks = 0;
    int64_t retry_in_us = 0;           // failed/symmetric: until the next attempt
  };
  std::optional<PeerView> peer_view(uint64_t serial) const;
  struct Counters {
    uint64_t observed = 0, candidates_sent = 0, candidates_received = 0, probes_sent = 0, probes_received = 0,
             replies_received = 0, upgrades = 0, fallbacks = 0, punch_failures = 0, malformed = 0, address_changes = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  struct Observation {
    UdpEndpoint seen;
    int64_t at_us = 0;
  };
  struct PeerState {
    HolePunch punch;
    uint64_t token = 0;
    NatType their_nat = NatType::kUnknown;
    std::vector<UdpEndpoint> theirs;
    std::map<uint64_t, UdpEndpoint> probes;  // nonce -> where it went (bounded)
    int64_t direct_us = 0, relayed_us = 0, relayed_tcp_us = 0, accounted_us = 0;
    int64_t died_us = 0;  // the direct path died then (relay wanted at once)
    int64_t punch_started_us = 0;  // the last punch (0: none since start or roaming)
    uint64_t upgrades = 0, fallbacks = 0;
  };
  void on_observe(Peer& peer, const NatObserve& m);
  void on_observed(Peer& peer, const NatObserved& m);
  void on_candidates(Peer& peer, const NatCandidates& m);
  void on_probe(Peer& peer, const NatProbe& m);
  void on_reply(Peer& peer, const NatProbeReply& m);
  void observe_relays(int64_t now);
  void tick_peer(Peer& peer, PeerState& st, int64_t now);
  bool eligible(const Peer& peer) const;
  bool views_settled(int64_t now) const;
  void send_candidates(Peer& peer, PeerState& st, bool answer);
  void send_probe(Peer& peer, PeerState& st, const UdpEndpoint& to);
  void note_observation(uint64_t observer, const UdpEndpoint& seen, int64_t now);
  void fall_back(Peer& peer, PeerState& st, int64_t now, const char* why);
  std::vector<UdpEndpoint> own_candidates() const;
  uint64_t random_u64();

  Node& node_;
  const Clock& clock_;
  RandomSource& random_;
  NatTraversalSettings settings_;
  std::function<void()> endpoints_changed_;
  std::map<uint64_t, Observation> observations_;      // by observer serial
  std::map<uint64_t, std::pair<uint64_t, int64_t>> observe_asked_;  // relay serial -> (nonce, sent)
  std::map<uint64_t, PeerState> peers_;                // by peer serial
  std::vector<UdpEndpoint> last_reported_;
  int64_t started_us_ = 0;
  Counters counters_;
};

}  // namespace zeq
