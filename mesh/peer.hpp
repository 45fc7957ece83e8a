// A configured peer. Workers read the published parts (current keypair,
// endpoint, counters) without locks; the handshake and keypair rotation state
// below the line belongs to the control thread alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "identity/certificate.hpp"
#include "mesh/cover_schedule.hpp"
#include "mesh/endpoint_cell.hpp"
#include "mesh/keypair.hpp"
#include "mesh/relay_route.hpp"
#include "mesh/staged_packets.hpp"
#include "mesh/node_settings.hpp"
#include "protocol/cookie.hpp"
#include "protocol/handshake.hpp"
#include "protocol/handshake_replay_guard.hpp"

namespace zeq {

class Peer {
 public:
  // staged_budget: the node's bound on held packets (null: per peer only).
  Peer(const PeerSettings& settings, uint64_t serial, std::shared_ptr<StagedBudget> staged_budget = nullptr);

  // The control thread's (a reload may update them); the workers see
  // allowed_ips only through the published PeerTable.
  PeerSettings settings;
  const uint64_t serial;  // never reused, so a late wake-up cannot hit another peer
  const PeerKey key;
  std::string label() const { return settings.label(); }

  // ---- shared with the workers ----
  // Grouped by who writes them how often, each group on cache lines of its
  // own (alignas(CACHE_LINE), mesh/keypair.hpp): a counter that one worker
  // bumps per packet must not share a line with what every other worker
  // reads per packet (false sharing: each write would take the line away
  // from all readers), and the receiving and the sending worker (often not
  // the same one) must not fight over one line either.
  //
  // Read per packet, written rarely (session switch, roaming, reload).
  // The session packets to this peer are sealed with. Written only through
  // the session switch below; read by anyone.
  alignas(CACHE_LINE) std::atomic<Keypair*> current{nullptr};
  EndpointCell endpoint;
  // Relayed paths (relay_route.hpp): the route packets go out by (null:
  // straight to `endpoint`), published by the control thread; and the route
  // the last authenticated message arrived by (its id, 0: directly), set by
  // the worker that opened it (only when it changes). When the two differ
  // the worker asks the control thread to look
  // (SessionManager::follow_arrival), as roaming.
  std::atomic<RelayRoute*> route{nullptr};
  // PaddingPolicy of every data message to this peer (set by the control
  // thread from the settings; a reload may change it).
  std::atomic<uint8_t> padding{0};
  // settings.is_relay as the workers see it (a relay of ours: its RelayData
  // is opened); the control thread keeps the two equal.
  std::atomic<bool> relays_for_us{false};
  // A relay of ours reached over TCP now (relay/relay_tcp_client.hpp): its
  // endpoint is a loopback bridge. Status says "relayed-tcp" for the peers
  // through it.
  std::atomic<bool> relay_over_tcp{false};
  std::atomic<uint64_t> arrived_by{0};

  // Written per received packet (by the worker that opened it).
  alignas(CACHE_LINE) std::atomic<uint64_t> rx_bytes{0};
  std::atomic<uint64_t> rx_packets{0};
  std::atomic<int64_t> last_rx_us{0};          // any authenticated packet
  std::atomic<int64_t> last_rx_data_us{0};     // an authenticated IP packet
  std::atomic<uint64_t> cover_rx_packets{0}, cover_rx_bytes{0};

  // Written per sent packet (by the worker that sealed it).
  alignas(CACHE_LINE) std::atomic<uint64_t> tx_bytes{0};
  std::atomic<uint64_t> tx_packets{0};
  std::atomic<int64_t> last_tx_us{0};          // any data message, keepalives too
  std::atomic<int64_t> last_tx_data_us{0};     // an IP packet from the TUN (idle tunnels: known_peers.cpp)

  // Read per packet by both directions, written on transitions only (the
  // first send after a receive, the first receive after a send, a request
  // to the control thread) and on the slow path.
  alignas(CACHE_LINE) std::atomic<int64_t> first_unanswered_us{0}; // first data sent since last receive
  // Set by a worker that needs the control thread: a packet without a
  // session, a key due for rekey, a new key confirmed. Cleared by the control
  // thread; the transition false -> true posts one wake-up.
  std::atomic<bool> wants_attention{false};
  std::atomic<bool> wants_handshake{false};
  // A relay of ours sent on a channel we hold no route for (we restarted,
  // or dropped the pair): the last such channel, for the control thread to
  // ask the relay to close it (RelayListener::unknown_channel); 0: none.
  std::atomic<uint32_t> unknown_channel{0};
  // IP packets that found no usable session, until one is current.
  StagedPackets staged;

  // ---- the session switch ----
  // A responder's new session waits for key confirmation: the first packet
  // that authenticates under it. The worker that opens that packet makes the
  // session current at once, before the packet reaches the TUN, so the reply
  // the kernel sends goes out under the session the peer has (a peer that
  // restarted has no other). Ownership stays with the control thread, which
  // catches up later (SessionManager::promote_next). A small lock orders the
  // worker's switch with the control thread's changes; the data path takes
  // it once per new session, never per packet.
  //
  // Control thread: the session to send with (null: none).
  void publish_current(Keypair* kp);
  // Control thread: kp is a responder's session awaiting confirmation.
  void await_confirmation(Keypair* kp);
  // Control thread: kp is going away; it stops being awaited, and if it is
  // current (a worker may have just confirmed it), `fallback` is current
  // instead.
  void unpublish(const Keypair* kp, Keypair* fallback = nullptr);
  // Worker: the first packet under kp authenticated. True when kp was
  // awaiting confirmation and is current now.
  bool confirm(Keypair* kp);

  // ---- control thread only ----
  // Padding and cover mode in force: the peer's own settings, else the
  // node's; an operator's `zeqvpnctl cover on|off` overrides the cover mode.
  void apply_traffic_shape(CoverMode node_cover, PaddingPolicy node_padding);

  // On lines of their own too: the control thread writes some of these
  // often (timers, cover traffic).
  alignas(CACHE_LINE) std::unique_ptr<Keypair> current_owned;
  std::unique_ptr<Keypair> previous, next;
  std::unique_ptr<InitiatorHandshake> pending_handshake;
  int64_t handshake_started_us = 0;  // first attempt of the current round
  int64_t next_retry_us = 0;
  int64_t last_handshake_us = 0;     // last completed
  HandshakeReplayGuard replay_guard;
  // The cookie the peer handed us while under load: mac2 for our handshake
  // messages to it.
  PeerCookie cookie;
  uint64_t handshakes = 0, rekeys = 0;
  bool gave_up = false;
  bool admin_down = false;           // `zeqvpnctl down`: no keys, no handshakes
  int64_t up_since_us = 0;           // 0 while the tunnel is down
  // rx_bytes and tx_bytes as the tunnel last came up: what its record (the
  // ledger) counts from. Noted before a key that can bring it up is given
  // to the workers (SessionManager::note_bytes_at_up), so the record counts
  // the first packets the key carried (held packets, the confirming one).
  uint64_t rx_bytes_at_up = 0, tx_bytes_at_up = 0;
  bool bytes_at_up_noted = false;  // for the next time the tunnel comes up
  // Cover traffic: the mode in force (settings, or `zeqvpnctl cover`), the
  // operator's override, the schedule while the tunnel is up, and what was
  // sent (tx counters above include it).
  CoverMode cover_mode = CoverMode::kOff;
  std::optional<bool> cover_override;  // on: the configured mode, or constant if that is off
  std::optional<CoverSchedule> cover;
  uint64_t cover_tx_packets = 0, cover_tx_bytes = 0;
  int64_t cover_last_sent_ns = 0;  // CLOCK_MONOTONIC of the last cover packet sent
  int64_t cover_last_due_ns = 0;   // when the schedule wanted that packet sent
  // The mesh certificate the peer proved in a handshake (mesh/mesh_trust.hpp),
  // and whether the node knows the peer only through it (not from the YAML).
  // A certificate narrows the peer's allowed_ips (effective_allowed_ips).
  std::optional<Certificate> certificate;
  bool certified_only = false;
  int64_t admitted_us = 0;  // when a certificate admitted it (certified-only peers)
  // Once a peer has proved a certificate, handshakes without one (or after
  // it was revoked) are refused: it never falls back to its wider YAML entry.
  bool requires_certificate = false;
  // Known from the mesh directory (SessionManager::learn_peer): its tunnel
  // comes up when traffic for it arrives and goes idle after a quiet time;
  // it stays known while the directory holds its record, and the endpoints
  // its record lists are tried in turn when handshakes go unanswered.
  bool from_directory = false;
  std::vector<UdpEndpoint> known_endpoints;
  size_t known_endpoint_next = 0;
  uint64_t idle_teardowns = 0;
  // Relays (relay/relay_client.hpp): this peer's routes through relays
  // (routes that are not `route` only take what arrives by them), and the
  // initiations of the current round that went unanswered (reset when a
  // handshake completes), which sends a `via: auto` peer through a relay.
  std::vector<std::shared_ptr<RelayRoute>> relay_routes;
  int unanswered_initiations = 0;
  int64_t initiation_sent_us = 0;    // the last initiation sent
  int64_t path_rtt_us = 0;           // its round trip, when it was answered
  // The prefixes its entry gives the peer: the YAML's narrowed by its
  // certificate, or a certified-only peer's certificate's (DataPlane then
  // takes away what a YAML peer holds: routable_prefixes).
  std::vector<IpPrefix> effective_allowed_ips() const;

 private:
  std::mutex switch_mutex_;
  Keypair* awaiting_ = nullptr;  // guarded by switch_mutex_
};

}  // namespace zeq
