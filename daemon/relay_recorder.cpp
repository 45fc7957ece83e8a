#include "daemon/relay_recorder.hpp"

#include <spdlog/spdlog.h>

namespace zeq {

RelayRecorder::RelayRecorder(TunnelStore& store, const Clock& clock)
    : store_(store), clock_(clock), commits_(store, "relayed usage", "relayed pairs") {}

std::string RelayRecorder::chain_of(const RelayedPair& pair) { return pair.requester_zid + ">" + pair.target_zid; }

void RelayRecorder::pair_opened(const RelayedPair& pair) {
  if (open_.count(pair.pair_id)) {
    spdlog::warn("state: relayed pair {} is already recorded (row {}); the second opening is not recorded", pair.pair_id,
                 open_.at(pair.pair_id).row.id);
    return;
  }
  const uint64_t z = pair.started_z ? pair.started_z : clock_.zeqond();
  TunnelTerms terms;
  terms.unit = pair.unit;
  terms.price = pair.price;
  terms.relay_zid = pair.relay_zid;
  terms.chain = chain_of(pair);
  auto id = store_.open_tunnel(pair.peer_zid, pair.requester_zid, terms, z);
  if (!id) {
    spdlog::warn("state: recording relayed pair {} ({} via {}): {}", pair.pair_id, terms.chain, pair.relay_zid,
                 id.message());
    return;
  }
  OpenPair p;
  p.row.id = *id;
  p.row.ledger_z = z;  // the first signed checkpoint comes LEDGER_EVERY_Z later
  open_.emplace(pair.pair_id, p);
}

void RelayRecorder::pair_counters(uint64_t pair_id, const RelayedBytes& bytes) {
  if (auto it = open_.find(pair_id); it != open_.end()) it->second.bytes = bytes;
}

void RelayRecorder::pair_closed(uint64_t pair_id, const RelayedBytes& bytes, uint64_t stopped_z, const char* reason) {
  auto it = open_.find(pair_id);
  if (it == open_.end()) return;  // its opening was not recorded (logged then)
  const int64_t id = it->second.row.id;
  open_.erase(it);
  if (Status s = store_.terminate(id, bytes.down, bytes.up, stopped_z, reason ? reason : "closed"); !s)
    spdlog::warn("state: settling relayed pair {} (row {}): {}", pair_id, id, s.message());
}

void RelayRecorder::receipt(uint64_t pair_id, ByteSpan signed_receipt, const RelayedBytes& acknowledged,
                            uint64_t zeqond) {
  auto it = open_.find(pair_id);
  if (it == open_.end()) {
    spdlog::warn("state: usage receipt for relayed pair {}, which has no open row: not kept", pair_id);
    return;
  }
  if (Status s = store_.add_receipt(it->second.row.id, signed_receipt, acknowledged.up, acknowledged.down, zeqond); !s)
    spdlog::warn("state: usage receipt of relayed pair {}: {}", pair_id, s.message());
}

bool RelayRecorder::checkpoint() {
  const uint64_t z = clock_.zeqond();
  // Work on copies: a transaction that fails leaves nothing in the database,
  // so nothing may count as written either.
  std::map<uint64_t, OpenPair> next = open_;
  bool moved = false;
  for (const auto& [pair_id, p] : next) moved |= p.row.moved(p.bytes.down, p.bytes.up);
  if (!moved) return true;  // idle pairs write nothing
  bool ok = commits_.commit(z, [&]() -> Status {
    for (auto& [pair_id, p] : next)
      if (Status w = p.row.write(store_, p.bytes.down, p.bytes.up, z); !w) return w;
    return Status::ok();
  });
  if (!ok) return false;
  for (const auto& [pair_id, p] : next)
    if (auto it = open_.find(pair_id); it != open_.end()) it->second.row = p.row;
  return true;
}

std::optional<int64_t> RelayRecorder::row_of(uint64_t pair_id) const {
  if (auto it = open_.find(pair_id); it != open_.end()) return it->second.row.id;
  return std::nullopt;
}

}  // namespace zeq
