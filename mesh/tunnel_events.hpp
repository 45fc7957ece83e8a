// How the session manager tells the rest of the node, and the node the
// daemon, that a peer's tunnel came up or went down, without knowing who
// listens (the node offers its DNS resolver; the daemon's recorder writes
// vpn_tunnels rows). Called on the control thread, at most once per
// transition; a peer stays alive from tunnel_up to its tunnel_down.
#pragma once

namespace zeq {

class Peer;

class TunnelEvents {
 public:
  virtual ~TunnelEvents() = default;
  // The peer has a usable current key now and had none before.
  virtual void tunnel_up(Peer& peer) = 0;
  // The peer's last key is gone; reason names why (key_expired, admin_down,
  // peer_removed, daemon_stopped).
  virtual void tunnel_down(Peer& peer, const char* reason) = 0;
};

}  // namespace zeq
