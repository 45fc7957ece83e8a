// A configured peer. Workers read the published parts (current keypair,
// endpoint, counters) without locks; the handshake and keypair rotation state
// below the line belongs to the control thread alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "config/config.hpp"
#include "crypto/hash.hpp"
#include "mesh/cover_schedule.hpp"
#include "mesh/endpoint_cell.hpp"
#include "mesh/keypair.hpp"
#include "protocol/handshake.hpp"
#include "protocol/handshake_replay_guard.hpp"

namespace zeq {

class Peer {
 public:
  Peer(const PeerConfig& config, uint64_t serial);

  // The configuration is the control thread's (a reload may update it); the
  // workers see allowed_ips only through the published PeerTable.
  PeerConfig config;
  const uint64_t serial;  // never reused, so a late wake-up cannot hit another peer
  const PeerKey key;
  std::string label() const { return config.name.empty() ? config.zid : config.name + " (" + config.zid + ")"; }

  // ---- shared with the workers ----
  std::atomic<Keypair*> current{nullptr};
  EndpointCell endpoint;
  std::atomic<uint64_t> rx_bytes{0}, tx_bytes{0}, rx_packets{0}, tx_packets{0};
  std::atomic<int64_t> last_rx_us{0};          // any authenticated packet
  std::atomic<int64_t> last_rx_data_us{0};     // an authenticated IP packet
  std::atomic<int64_t> last_tx_us{0};          // any data message, keepalives too
  std::atomic<int64_t> first_unanswered_us{0}; // first data sent since last receive
  // Set by a worker that needs the control thread: a packet without a
  // session, a key due for rekey, a new key confirmed. Cleared by the control
  // thread; the transition false -> true posts one wake-up.
  std::atomic<bool> wants_attention{false};
  std::atomic<bool> wants_handshake{false};
  // PaddingPolicy of every data message to this peer (set by the control
  // thread from the config; a reload may change it).
  std::atomic<uint8_t> padding{0};
  std::atomic<uint64_t> cover_rx_packets{0}, cover_rx_bytes{0};

  // ---- control thread only ----
  std::unique_ptr<Keypair> current_owned, previous, next;
  std::unique_ptr<InitiatorHandshake> pending_handshake;
  int64_t handshake_started_us = 0;  // first attempt of the current round
  int64_t next_retry_us = 0;
  int64_t last_handshake_us = 0;     // last completed
  HandshakeReplayGuard replay_guard;
  uint64_t handshakes = 0, rekeys = 0;
  bool gave_up = false;
  bool admin_down = false;           // `zeqvpnctl down`: no keys, no handshakes
  int64_t up_since_us = 0;           // 0 while the tunnel is down
  // The vpn_tunnels row of the tunnel now up, and the byte counters when it
  // came up (the row records this tunnel's bytes, not the peer's lifetime).
  int64_t tunnel_id = 0;
  uint64_t tunnel_rx_base = 0, tunnel_tx_base = 0;
  // Cover traffic: the mode in force (config, or `zeqvpnctl cover`), the
  // operator's override, the schedule while the tunnel is up, and what was
  // sent (tx counters above include it).
  CoverMode cover_mode = CoverMode::kOff;
  std::optional<bool> cover_override;  // on: the configured mode, or constant if that is off
  std::optional<CoverSchedule> cover;
  uint64_t cover_tx_packets = 0, cover_tx_bytes = 0;
  int64_t cover_last_sent_ns = 0;  // CLOCK_MONOTONIC
};

}  // namespace zeq
