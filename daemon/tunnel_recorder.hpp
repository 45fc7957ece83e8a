// Writes the vpn_tunnels lifecycle of every peer to the state store: a row
// opened (pending -> active) when a tunnel comes up, byte checkpoints while it
// runs, settlement when it goes down. A store error is logged and the tunnel
// carries on: accounting must never take the VPN down. The node reaches it
// through TunnelEvents; it keeps its own record of each open tunnel (row,
// and the byte counters when it opened). Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/clock.hpp"
#include "mesh/tunnel_events.hpp"
#include "store/tunnel_store.hpp"

namespace zeq {

class TunnelRecorder final : public TunnelEvents {
 public:
  // The billing terms of a peer by ZID, asked when its tunnel opens.
  using TermsOf = std::function<TunnelTerms(const std::string& zid)>;
  TunnelRecorder(TunnelStore& store, const Clock& clock, std::string local_zid, TermsOf terms_of);

  void tunnel_up(Peer& peer) override;
  void tunnel_down(Peer& peer, const char* reason) override;
  // Writes the byte counters of every open tunnel, and when each peer last
  // completed a handshake.
  void checkpoint();
  // Settles rows a crashed earlier run left active; returns how many.
  int settle_orphans();
  // The vpn_tunnels row of the peer's open tunnel; 0 when none is open.
  int64_t tunnel_id(const std::string& zid) const;

 private:
  // A tunnel between tunnel_up and tunnel_down (the node keeps the peer
  // alive until then). Its row records this tunnel's bytes, not the
  // peer's lifetime counters.
  struct OpenTunnel {
    const Peer* peer;
    int64_t id;
    uint64_t rx_base, tx_base;
  };
  static std::pair<uint64_t, uint64_t> tunnel_bytes(const OpenTunnel& t);

  TunnelStore& store_;
  const Clock& clock_;
  std::string local_zid_;
  TermsOf terms_of_;
  std::map<uint64_t, OpenTunnel> open_;  // by peer serial
};

}  // namespace zeq
