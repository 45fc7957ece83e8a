#include "store/tunnel_store.hpp"

#include <spdlog/spdlog.h>

#include "crypto/hash.hpp"
#include "crypto/random.hpp"

namespace zeq {

namespace {
const char* kColumns =
    "id, peer_zid, local_zid, initiator_zid, state, key_purpose_id, IFNULL(relay_zid, ''), multi_hop_chain, "
    "IFNULL(end_reason, ''), pricing_unit, price_per_unit, requested_at_zeqond, IFNULL(started_at_zeqond, 0), "
    "IFNULL(stopped_at_zeqond, 0), rx_bytes, tx_bytes, IFNULL(total_zeq_charged, -1)";

TunnelRow row_from(const Statement& st) {
  TunnelRow r;
  r.id = st.int64(0);
  r.peer_zid = st.text(1);
  r.local_zid = st.text(2);
  r.initiator_zid = st.text(3);
  r.state = st.text(4);
  r.key_purpose_id = st.text(5);
  r.relay_zid = st.text(6);
  r.multi_hop_chain = st.text(7);
  r.end_reason = st.text(8);
  r.pricing_unit = st.text(9);
  r.price_per_unit = st.int64(10);
  r.requested_at = st.int64(11);
  r.started_at = st.int64(12);
  r.stopped_at = st.int64(13);
  r.rx_bytes = st.int64(14);
  r.tx_bytes = st.int64(15);
  r.total_zeq_charged = st.int64(16);
  return r;
}

std::string purpose_pointer(int64_t id) { return "vpn.tunnel." + std::to_string(id) + ".key"; }
}  // namespace

Result<int64_t> TunnelStore::open_tunnel(const std::string& peer_zid, const std::string& initiator_zid,
                                         const TunnelTerms& terms, uint64_t zeqond) {
  int64_t id = 0;
  Status s = db_.transaction([&] {
    auto st = db_.prepare(
        "INSERT INTO vpn_tunnels(peer_zid, local_zid, initiator_zid, state, key_purpose_id, cover_traffic, pricing_unit, "
        "price_per_unit, requested_at_zeqond, relay_zid, multi_hop_chain) VALUES (?, ?, ?, 'pending', '', ?, ?, ?, ?, ?, ?)");
    if (!st) return st.status();
    st->bind(1, peer_zid).bind(2, local_zid_).bind(3, initiator_zid).bind(4, int64_t(terms.cover_traffic));
    st->bind(5, to_string(terms.unit)).bind(6, int64_t(terms.price)).bind(7, int64_t(zeqond));
    if (terms.relay_zid.empty())
      st->bind_null(8);
    else
      st->bind(8, terms.relay_zid);
    st->bind(9, terms.chain);
    if (Status d = st->done(); !d) return d;
    id = db_.last_insert_id();
    auto up = db_.prepare("UPDATE vpn_tunnels SET key_purpose_id = ? WHERE id = ?");
    if (!up) return up.status();
    up->bind(1, purpose_pointer(id)).bind(2, id);
    return up->done();
  });
  if (!s) return s;
  std::array<uint8_t, 32> receipt_key{};
  random_fill(receipt_key);
  s = vault_.put(purpose_pointer(id), receipt_key, {"tunnel.receipt", peer_zid, 0}, "zeqvpnd", zeqond);
  if (s) receipt_keys_.emplace(id, SecretBuffer(receipt_key));
  secure_wipe(receipt_key.data(), receipt_key.size());
  if (!s) return s;
  if (Status t = transition(id, "active", zeqond); !t) return t;
  return id;
}

Status TunnelStore::transition(int64_t id, const std::string& to, uint64_t zeqond) {
  auto row = get(id);
  if (!row) return row.status();
  bool valid = (row->state == "pending" && to == "active") || (row->state == "active" && to == "terminated");
  if (!valid) return Status::error("tunnel " + std::to_string(id) + ": cannot go from " + row->state + " to " + to);
  auto st = db_.prepare(to == "active"
                            ? "UPDATE vpn_tunnels SET state = 'active', started_at_zeqond = ? WHERE id = ? AND state = 'pending'"
                            : "UPDATE vpn_tunnels SET state = 'terminated', stopped_at_zeqond = ? WHERE id = ? AND state = 'active'");
  if (!st) return st.status();
  st->bind(1, int64_t(zeqond)).bind(2, id);
  return st->done();
}

Result<const SecretBuffer*> TunnelStore::receipt_key(int64_t id, uint64_t zeqond) {
  if (auto it = receipt_keys_.find(id); it != receipt_keys_.end()) return &it->second;
  auto key = vault_.get(purpose_pointer(id), "zeqvpnd", zeqond);
  if (!key) return key.status();
  return &receipt_keys_.emplace(id, std::move(key.value())).first->second;
}

Status TunnelStore::ledger(int64_t id, const std::string& kind, uint64_t rx, uint64_t tx, uint64_t zeqonds,
                           uint64_t cost, uint64_t zeqond) {
  auto key = receipt_key(id, zeqond);
  if (!key) return key.status();
  std::string canonical = std::to_string(id) + "|" + kind + "|" + std::to_string(zeqond) + "|" + std::to_string(rx) +
                          "|" + std::to_string(tx) + "|" + std::to_string(zeqonds) + "|" + std::to_string(cost);
  std::string mac = to_hex(hmac_sha256((*key)->span(), as_bytes(canonical)));
  auto st = db_.prepare(
      "INSERT INTO usage_ledger(tunnel_id, zeqond, rx_bytes, tx_bytes, cumulative_zeqonds, cost, kind, receipt_mac) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st) return st.status();
  st->bind(1, id).bind(2, int64_t(zeqond)).bind(3, int64_t(rx)).bind(4, int64_t(tx)).bind(5, int64_t(zeqonds));
  st->bind(6, int64_t(cost)).bind(7, kind).bind(8, mac);
  return st->done();
}

TunnelStore::Usage TunnelStore::usage_of(const TunnelRow& row, uint64_t rx, uint64_t tx, uint64_t zeqond) {
  uint64_t zq = zeqond > uint64_t(row.started_at) ? zeqond - uint64_t(row.started_at) : 0;
  // rx + tx: an overflow of the sum is an overflow of the cost, not a wrap.
  std::optional<uint64_t> cost;
  if (rx <= UINT64_MAX - tx) cost = tunnel_cost(*pricing_unit_from(row.pricing_unit), rx + tx, zq, uint64_t(row.price_per_unit));
  return {zq, cost};
}

Status TunnelStore::checkpoint(int64_t id, uint64_t rx, uint64_t tx, uint64_t zeqond) {
  auto row = get(id);
  if (!row) return row.status();
  if (row->state != "active" || (uint64_t(row->rx_bytes) == rx && uint64_t(row->tx_bytes) == tx)) return Status::ok();
  const Usage used = usage_of(*row, rx, tx, zeqond);
  return db_.transaction([&] {
    auto st = db_.prepare("UPDATE vpn_tunnels SET rx_bytes = ?, tx_bytes = ? WHERE id = ?");
    if (!st) return st.status();
    st->bind(1, int64_t(rx)).bind(2, int64_t(tx)).bind(3, id);
    if (Status d = st->done(); !d) return d;
    return ledger(id, "checkpoint", rx, tx, used.zeqonds, used.cost.value_or(0), zeqond);
  });
}

Status TunnelStore::in_one_transaction(const std::function<Status()>& fn, bool synced) {
  if (synced || db_.in_transaction()) return db_.transaction(fn);
  if (Status s = db_.set_full_sync(false); !s) return s;
  Status s = db_.transaction(fn);
  // FULL comes back whatever happened, or every later commit would skip the
  // fsync without anyone knowing. A COMMIT that failed (a full disk, a
  // deferred constraint) can leave the transaction open, and SQLite refuses
  // to change the safety level inside one: end it first.
  if (!s && db_.in_transaction()) (void)db_.exec("ROLLBACK");
  Status back = db_.set_full_sync(true);
  if (!back)
    spdlog::error("could not restore synchronous=FULL after an unsynced commit ({}); commits do not wait for the "
                  "disk until the next checkpoint restores it",
                  back.message());
  return !s ? s : back;
}

Status TunnelStore::record_counters(int64_t id, uint64_t rx, uint64_t tx) {
  auto st = db_.prepare("UPDATE vpn_tunnels SET rx_bytes = ?, tx_bytes = ? WHERE id = ? AND state = 'active'");
  if (!st) return st.status();
  st->bind(1, int64_t(rx)).bind(2, int64_t(tx)).bind(3, id);
  return st->done();
}

Status TunnelStore::terminate(int64_t id, uint64_t rx, uint64_t tx, uint64_t zeqond, const std::string& reason) {
  auto row = get(id);
  if (!row) return row.status();
  if (row->state != "active") return Status::error("tunnel " + std::to_string(id) + " is " + row->state + ", not active");
  const Usage used = usage_of(*row, rx, tx, zeqond);
  const uint64_t zq = used.zeqonds;
  const auto& cost = used.cost;
  if (!cost) return Status::error("tunnel " + std::to_string(id) + ": settlement overflows 64 bits");
  Status s = db_.transaction([&] {
    auto st = db_.prepare(
        "UPDATE vpn_tunnels SET state = 'terminated', stopped_at_zeqond = ?, rx_bytes = ?, tx_bytes = ?, "
        "total_zeq_charged = ?, end_reason = ? WHERE id = ? AND state = 'active'");
    if (!st) return st.status();
    st->bind(1, int64_t(zeqond)).bind(2, int64_t(rx)).bind(3, int64_t(tx)).bind(4, int64_t(*cost)).bind(5, reason).bind(6, id);
    if (Status d = st->done(); !d) return d;
    return ledger(id, "settlement", rx, tx, zq, *cost, zeqond);
  });
  if (s) receipt_keys_.erase(id);  // wiped: the tunnel signs nothing more
  return s;
}

Result<int> TunnelStore::settle_orphans(uint64_t zeqond) {
  std::vector<TunnelRow> orphans;
  {
    auto st = db_.prepare(std::string("SELECT ") + kColumns + " FROM vpn_tunnels WHERE state = 'active' AND local_zid = ?");
    if (!st) return st.status();
    st->bind(1, local_zid_);
    while (st->step()) orphans.push_back(row_from(*st));
  }
  for (const auto& r : orphans) {
    if (Status s = terminate(r.id, uint64_t(r.rx_bytes), uint64_t(r.tx_bytes), zeqond, "daemon_stopped_unexpectedly"); !s)
      return s;
  }
  return int(orphans.size());
}

Status TunnelStore::add_receipt(int64_t tunnel_id, ByteSpan signed_receipt, uint64_t up, uint64_t down,
                                uint64_t zeqond) {
  const std::string tunnel = "tunnel " + std::to_string(tunnel_id);
  if (signed_receipt.empty()) return Status::error(tunnel + ": refusing an empty usage receipt");
  if (signed_receipt.size() > MAX_RELAY_RECEIPT_BYTES)
    return Status::error(tunnel + ": refusing a usage receipt of " + std::to_string(signed_receipt.size()) +
                         " bytes (at most " + std::to_string(MAX_RELAY_RECEIPT_BYTES) + " are kept)");
  if (up > uint64_t(INT64_MAX) || down > uint64_t(INT64_MAX) || zeqond > uint64_t(INT64_MAX))
    return Status::error(tunnel + ": refusing a usage receipt whose counters do not fit 63 bits");
  return db_.transaction([&] {
    auto row = get(tunnel_id);
    if (!row) return Status::error(row.message() + "; a usage receipt is kept only for a known tunnel");
    if (row->state != "active")
      return Status::error(tunnel + " is " + row->state + ": a usage receipt is kept only while the tunnel is active");
    auto st = db_.prepare("INSERT INTO relay_receipts(tunnel_id, zeqond, up_bytes, down_bytes, receipt) VALUES (?, ?, ?, ?, ?)");
    if (!st) return st.status();
    st->bind(1, tunnel_id).bind(2, int64_t(zeqond)).bind(3, int64_t(up)).bind(4, int64_t(down)).bind(5, signed_receipt);
    return st->done();
  });
}

Result<std::vector<RelayReceiptRow>> TunnelStore::receipts(int64_t tunnel_id) {
  auto st = db_.prepare(
      "SELECT id, tunnel_id, zeqond, up_bytes, down_bytes, receipt FROM relay_receipts WHERE tunnel_id = ? ORDER BY id");
  if (!st) return st.status();
  st->bind(1, tunnel_id);
  std::vector<RelayReceiptRow> rows;
  while (st->step())
    rows.push_back({st->int64(0), st->int64(1), st->int64(2), st->int64(3), st->int64(4), st->blob(5)});
  if (st->failed()) return db_.error("listing the usage receipts of tunnel " + std::to_string(tunnel_id));
  return rows;
}

Result<std::vector<TunnelRow>> TunnelStore::list(int limit) {
  auto st = db_.prepare(std::string("SELECT ") + kColumns + " FROM vpn_tunnels ORDER BY id DESC LIMIT ?");
  if (!st) return st.status();
  st->bind(1, int64_t(limit));
  std::vector<TunnelRow> rows;
  while (st->step()) rows.push_back(row_from(*st));
  if (st->failed()) return db_.error("listing tunnels");
  return rows;
}

Result<TunnelRow> TunnelStore::get(int64_t id) {
  auto st = db_.prepare(std::string("SELECT ") + kColumns + " FROM vpn_tunnels WHERE id = ?");
  if (!st) return st.status();
  st->bind(1, id);
  if (!st->step()) return Status::error("tunnel " + std::to_string(id) + " does not exist");
  return row_from(*st);
}

Status TunnelStore::upsert_peer(const std::string& zid, const std::string& public_key, const std::string& name,
                                uint64_t zeqond) {
  auto st = db_.prepare(
      "INSERT INTO peers(zid, public_key, name, first_seen_zeqond) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(zid) DO UPDATE SET public_key = excluded.public_key, name = excluded.name");
  if (!st) return st.status();
  st->bind(1, zid).bind(2, public_key).bind(3, name).bind(4, int64_t(zeqond));
  return st->done();
}

Status TunnelStore::note_handshake(const std::string& zid, uint64_t zeqond) {
  auto st = db_.prepare("UPDATE peers SET last_handshake_zeqond = ? WHERE zid = ?");
  if (!st) return st.status();
  st->bind(1, int64_t(zeqond)).bind(2, zid);
  return st->done();
}

}  // namespace zeq
