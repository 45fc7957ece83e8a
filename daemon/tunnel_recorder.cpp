#include "daemon/tunnel_recorder.hpp"

#include <spdlog/spdlog.h>

#include "mesh/peer.hpp"

namespace zeq {

Status RowCounters::write(TunnelStore& store, uint64_t rx_now, uint64_t tx_now, uint64_t z) {
  if (!moved(rx_now, tx_now)) return Status::ok();
  const bool signed_row = z >= ledger_z + UsageCommits::LEDGER_EVERY_Z;
  if (Status s = signed_row ? store.checkpoint(id, rx_now, tx_now, z) : store.record_counters(id, rx_now, tx_now); !s)
    return Status::error("checkpoint of tunnel " + std::to_string(id) + ": " + s.message());
  rx = rx_now;
  tx = tx_now;
  if (signed_row) ledger_z = z;
  return Status::ok();
}

bool UsageCommits::commit(uint64_t z, const std::function<Status()>& write) {
  const bool synced = z >= synced_z_ + LEDGER_EVERY_Z;
  Status s = store_.in_one_transaction(write, synced);
  if (!s) {
    if (failed_++ == 0) {
      // Most store errors name the file already.
      const std::string& path = store_.database_path();
      std::string what = s.message().find(path) == std::string::npos ? path + ": " + s.message() : s.message();
      spdlog::error("state: writing {} failed: {}; {} carry on, the counts are kept in memory and "
                    "retried every Zeqond (logged once until a write works; free space or fix the file)",
                    usage_, what, carriers_);
    }
    return false;
  }
  if (failed_) {
    spdlog::info("state: {} written to {} again after {} failed checkpoint(s)", usage_, store_.database_path(), failed_);
    failed_ = 0;
  }
  if (synced) synced_z_ = z;
  return true;
}

TunnelRecorder::TunnelRecorder(TunnelStore& store, const Clock& clock, std::string local_zid, TermsOf terms_of)
    : store_(store), clock_(clock), local_zid_(std::move(local_zid)), terms_of_(std::move(terms_of)),
      commits_(store, "tunnel usage", "tunnels") {}

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
  OpenTunnel t{&peer, peer.rx_bytes_at_up, peer.tx_bytes_at_up};  // noted before its key was published
  t.row.id = *id;
  t.row.ledger_z = z;  // the first signed checkpoint comes LEDGER_EVERY_Z later
  t.handshake_written_us = peer.last_handshake_us;  // noted just below
  open_[peer.serial] = t;
  if (Status s = store_.note_handshake(peer.key.zid, z); !s)
    spdlog::warn("state: peer {}: {}", peer.label(), s.message());
}

void TunnelRecorder::tunnel_down(Peer& peer, const char* reason) {
  auto it = open_.find(peer.serial);
  if (it == open_.end()) return;
  auto [rx, tx] = tunnel_bytes(it->second);
  if (Status s = store_.terminate(it->second.row.id, rx, tx, clock_.zeqond(), reason); !s)
    spdlog::warn("state: closing tunnel {} of {}: {}", it->second.row.id, peer.label(), s.message());
  open_.erase(it);
}

Status TunnelRecorder::write_checkpoint(OpenTunnel& t, uint64_t z) {
  auto [rx, tx] = tunnel_bytes(t);
  if (Status s = t.row.write(store_, rx, tx, z); !s) return s;
  // Rekeys complete handshakes too: keep peers.last_handshake_zeqond current.
  if (int64_t at = t.peer->last_handshake_us; at && at != t.handshake_written_us) {
    uint64_t handshake_z = zeqond_of(clock_.unix_us() - (clock_.mono_us() - at));
    if (Status s = store_.note_handshake(t.peer->key.zid, handshake_z); !s)
      return Status::error("peer " + t.peer->label() + ": " + s.message());
    t.handshake_written_us = at;
  }
  return Status::ok();
}

bool TunnelRecorder::checkpoint() {
  const uint64_t z = clock_.zeqond();
  // Work on copies: a transaction that fails leaves nothing in the database,
  // so nothing may count as written either.
  std::map<uint64_t, OpenTunnel> next = open_;
  bool moved = false;
  for (auto& [serial, t] : next) {
    auto [rx, tx] = tunnel_bytes(t);
    moved |= t.row.moved(rx, tx) || t.peer->last_handshake_us != t.handshake_written_us;
  }
  if (!moved) return true;  // an idle node writes nothing
  bool ok = commits_.commit(z, [&]() -> Status {
    for (auto& [serial, t] : next)
      if (Status w = write_checkpoint(t, z); !w) return w;
    return Status::ok();
  });
  if (!ok) return false;
  for (auto& [serial, t] : next)
    if (auto it = open_.find(serial); it != open_.end()) it->second = t;
  return true;
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
    if (t.peer->key.zid == zid) return t.row.id;
  return 0;
}

}  // namespace zeq
