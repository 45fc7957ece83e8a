#include "mesh/tunnel_recorder.hpp"

#include <spdlog/spdlog.h>

#include "mesh/peer.hpp"
#include "store/tunnel_store.hpp"

namespace zeq {

std::pair<uint64_t, uint64_t> TunnelRecorder::tunnel_bytes(const Peer& peer) {
  return {peer.rx_bytes.load() - peer.tunnel_rx_base, peer.tx_bytes.load() - peer.tunnel_tx_base};
}

void TunnelRecorder::tunnel_up(Peer& peer) {
  peer.tunnel_rx_base = peer.rx_bytes.load();
  peer.tunnel_tx_base = peer.tx_bytes.load();
  const Keypair* kp = peer.current_owned.get();
  TunnelTerms terms;
  terms.unit = pricing_unit_from(peer.config.billing_unit).value_or(PricingUnit::kGb);
  terms.price = peer.config.billing_price;
  uint64_t z = clock_.zeqond();
  if (Status s = store_.upsert_peer(peer.key.zid, encode_key(peer.key.public_key), peer.config.name, z); !s)
    spdlog::warn("state: peer {}: {}", peer.label(), s.message());
  auto id = store_.open_tunnel(peer.key.zid, kp && kp->initiator ? local_zid_ : peer.key.zid, terms, z);
  if (!id) {
    spdlog::warn("state: recording the tunnel to {}: {}", peer.label(), id.message());
    return;
  }
  peer.tunnel_id = *id;
  (void)store_.note_handshake(peer.key.zid, z);
}

void TunnelRecorder::tunnel_down(Peer& peer, const char* reason) {
  if (!peer.tunnel_id) return;
  auto [rx, tx] = tunnel_bytes(peer);
  if (Status s = store_.terminate(peer.tunnel_id, rx, tx, clock_.zeqond(), reason); !s)
    spdlog::warn("state: closing tunnel {} of {}: {}", peer.tunnel_id, peer.label(), s.message());
  peer.tunnel_id = 0;
}

void TunnelRecorder::checkpoint(const std::vector<Peer*>& peers) {
  uint64_t z = clock_.zeqond();
  for (Peer* p : peers) {
    if (!p->tunnel_id) continue;
    auto [rx, tx] = tunnel_bytes(*p);
    if (Status s = store_.checkpoint(p->tunnel_id, rx, tx, z); !s)
      spdlog::warn("state: checkpoint of tunnel {}: {}", p->tunnel_id, s.message());
    // Rekeys complete handshakes too: keep peers.last_handshake_zeqond current.
    if (p->last_handshake_us)
      (void)store_.note_handshake(p->key.zid, zeqond_of(clock_.unix_us() - (clock_.mono_us() - p->last_handshake_us)));
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

}  // namespace zeq
