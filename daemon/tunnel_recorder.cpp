#include "daemon/tunnel_recorder.hpp"

#include <spdlog/spdlog.h>

#include "mesh/peer.hpp"

namespace zeq {

TunnelRecorder::TunnelRecorder(TunnelStore& store, const Clock& clock, std::string local_zid, TermsOf terms_of)
    : store_(store), clock_(clock), local_zid_(std::move(local_zid)), terms_of_(std::move(terms_of)) {}

std::pair<uint64_t, uint64_t> TunnelRecorder::tunnel_bytes(const OpenTunnel& t) {
  return {t.peer->rx_bytes.load() - t.rx_base, t.peer->tx_bytes.load() - t.tx_base};
}

void TunnelRecorder::tunnel_up(Peer& peer) {
  const Keypair* kp = peer.current_owned.get();
  const uint64_t z = clock_.zeqond();
  if (Status s = store_.upsert_peer(peer.key.zid, encode_key(peer.key.public_key), peer.settings.name, z); !s)
    spdlog::warn("state: peer {}: {}", peer.label(), s.message());
  auto id = store_.open_tunnel(peer.key.zid, kp && kp->initiator ? local_zid_ : peer.key.zid, terms_of_(peer.key.zid), z);
  if (!id) {
    spdlog::warn("state: recording the tunnel to {}: {}", peer.label(), id.message());
    return;
  }
  open_[peer.serial] = OpenTunnel{&peer, *id, peer.rx_bytes.load(), peer.tx_bytes.load()};
  if (Status s = store_.note_handshake(peer.key.zid, z); !s)
    spdlog::warn("state: peer {}: {}", peer.label(), s.message());
}

void TunnelRecorder::tunnel_down(Peer& peer, const char* reason) {
  auto it = open_.find(peer.serial);
  if (it == open_.end()) return;
  auto [rx, tx] = tunnel_bytes(it->second);
  if (Status s = store_.terminate(it->second.id, rx, tx, clock_.zeqond(), reason); !s)
    spdlog::warn("state: closing tunnel {} of {}: {}", it->second.id, peer.label(), s.message());
  open_.erase(it);
}

void TunnelRecorder::checkpoint() {
  const uint64_t z = clock_.zeqond();
  for (const auto& [serial, t] : open_) {
    auto [rx, tx] = tunnel_bytes(t);
    if (Status s = store_.checkpoint(t.id, rx, tx, z); !s)
      spdlog::warn("state: checkpoint of tunnel {}: {}", t.id, s.message());
    // Rekeys complete handshakes too: keep peers.last_handshake_zeqond current.
    if (int64_t at = t.peer->last_handshake_us) {
      uint64_t handshake_z = zeqond_of(clock_.unix_us() - (clock_.mono_us() - at));
      if (Status s = store_.note_handshake(t.peer->key.zid, handshake_z); !s)
        spdlog::warn("state: peer {}: {}", t.peer->label(), s.message());
    }
  }
}

int TunnelRecorder::settle_orphans() {
  auto n = store_.settle_orphans(clock_.zeqond());
  if (!n) {
    spdlog::warn("state: settling tunnels left open by an earlier run: {}", n.message());
    return 0;
  }
  if (*n) spdlog::info("state: settled {} tunnel(s) left active by an earlier run that did not stop cleanly", *n);
  return *n;
}

int64_t TunnelRecorder::tunnel_id(const std::string& zid) const {
  for (const auto& [serial, t] : open_)
    if (t.peer->key.zid == zid) return t.id;
  return 0;
}

}  // namespace zeq
