// Writes the vpn_tunnels lifecycle of every peer to the state store: a row
// opened (pending -> active) when a tunnel comes up, byte checkpoints while it
// runs, settlement when it goes down. A store error is logged and the tunnel
// carries on: accounting must never take the VPN down. Control thread only.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "mesh/tunnel_events.hpp"

namespace zeq {

class Peer;
class TunnelStore;

class TunnelRecorder final : public TunnelEvents {
 public:
  TunnelRecorder(TunnelStore& store, const Clock& clock, std::string local_zid)
      : store_(store), clock_(clock), local_zid_(std::move(local_zid)) {}

  void tunnel_up(Peer& peer) override;
  void tunnel_down(Peer& peer, const char* reason) override;
  // Writes the byte counters of every open tunnel among `peers`, and when
  // each last completed a handshake.
  void checkpoint(const std::vector<Peer*>& peers);
  // Settles rows a crashed earlier run left active; returns how many.
  int settle_orphans();

 private:
  static std::pair<uint64_t, uint64_t> tunnel_bytes(const Peer& peer);
  TunnelStore& store_;
  const Clock& clock_;
  std::string local_zid_;
};

}  // namespace zeq
