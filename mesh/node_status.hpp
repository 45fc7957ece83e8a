// A point-in-time view of a running node for operators: what `zeqvpnctl
// status`, `peers` and `metrics` show. Plain values, no key material; built on
// the control thread by Node::status().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace zeq {

// Status warns about a certificate that expires within this (7 days).
inline constexpr int64_t CERTIFICATE_WARN_S = 7 * 86400;

// A mesh certificate as status shows it (identity/certificate.hpp).
struct CertificateStatus {
  std::string name, zid, fingerprint, issuer, owner;  // fingerprints in hex
  std::vector<std::string> roles, groups, addresses, allowed_ips;
  uint64_t not_before_z = 0, not_after_z = 0;
  int64_t expires_in_s = 0;  // negative: expired that long ago
};

struct PeerStatus {
  std::string name, zid, public_key;
  // up: a confirmed key; connecting: a handshake in flight; down: neither;
  // admin_down: taken down with `zeqvpnctl down`.
  std::string state;
  std::string endpoint;                 // empty while unknown
  std::string endpoint_host;            // the configured host name and port; empty: none
  std::vector<std::string> allowed_ips;
  int64_t last_handshake_age_us = -1;   // -1: never
  int64_t up_for_us = 0;                // 0 while down
  uint64_t rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0;
  uint64_t handshakes = 0, rekeys = 0;
  int persistent_keepalive_s = 0;
  int64_t tunnel_id = 0;                // the vpn_tunnels row while up (the daemon's recorder fills it)
  std::string cover_mode, padding;
  uint64_t cover_tx_packets = 0, cover_tx_bytes = 0, cover_rx_packets = 0, cover_rx_bytes = 0;
  int64_t cover_last_sent_ns = 0;       // CLOCK_MONOTONIC of the last cover packet sent
  int64_t cover_last_due_ns = 0;        // when the schedule wanted that packet sent
  // Exit offers (protocol/control_message.hpp families): the peer's to us,
  // ours to it; whether it is the exit in use.
  uint8_t exit_offer_received = 0, exit_offer_sent = 0;
  bool is_exit = false;
  // The certificate the peer proved (empty name: none), and whether the node
  // knows the peer only through it (not from the YAML).
  std::optional<CertificateStatus> certificate;
  bool certified_only = false;
  // Known from the mesh directory (on-demand tunnel, idle after a quiet
  // time); packets held for it now; times its tunnel went idle.
  bool from_directory = false;
  size_t staged_packets = 0;
  uint64_t idle_teardowns = 0;
  // Relays: whether the peer is one of ours (`relays:`), how packets reach
  // it (direct, or relay and which), and the round trip of that path: the
  // last handshake we started and had answered (-1: none measured).
  bool is_relay = false;
  std::string via;                      // auto, relay or direct (the setting)
  std::string path = "direct";          // direct | relay | relayed-tcp (the relay reached over TCP)
  std::string relay, relay_zid;         // label and ZID of the relay in use
  uint32_t relay_channel = 0;
  size_t relay_routes = 0;              // routes through relays it has (in use or standing by)
  int64_t path_rtt_us = -1;
  int unanswered_initiations = 0;
};

struct NodeStatus {
  std::string zid, public_key, interface;
  uint16_t listen_port = 0;
  int mtu = 0, workers = 0;
  std::string offloads;                                // what the kernel took, e.g. "tun tso4 tso6, udp gso gro"
  std::map<std::string, uint64_t> offload_counters;    // Offload counters by name, summed over workers
  int64_t uptime_us = 0;
  uint64_t zeqond = 0;
  double phase = 0;
  uint64_t handshakes_completed = 0, handshakes_answered = 0;
  // The handshake guard demands mac2 (docs/protocol.md); cookie replies
  // we accepted from peers under load.
  bool handshakes_under_load = false;
  uint64_t cookies_received = 0;
  std::map<std::string, uint64_t> handshake_rejects;  // by reason, non-zero only
  std::map<std::string, uint64_t> drops;              // by reason, every reason
  std::map<std::string, uint64_t> received;           // keepalive, cover, control
  std::vector<PeerStatus> peers;
  // Mesh certificates: this node's own (nullopt: none), the CAs it trusts
  // (fingerprints, hex), the serial of the revocation list held per CA, and
  // tunnels cut because a certificate stopped passing, by reason.
  std::optional<CertificateStatus> certificate;
  std::vector<std::string> trusted_cas;
  std::map<std::string, uint64_t> revocation_serials;
  std::map<std::string, uint64_t> certificate_cuts;
};

}  // namespace zeq
