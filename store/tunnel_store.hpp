// Tunnel lifecycle rows (vpn_tunnels), the usage ledger and the peers table.
// A tunnel goes pending -> active -> terminated and never back; settlement
// happens at termination with the integer rules of billing.hpp. Each tunnel's
// key_purpose_id points at a vault row holding its usage-receipt key, which
// signs (HMAC) every ledger row; no session key is ever stored.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/billing.hpp"
#include "store/database.hpp"
#include "store/vault.hpp"

namespace zeq {

struct TunnelRow {
  int64_t id = 0;
  std::string peer_zid, local_zid, initiator_zid, state, key_purpose_id, relay_zid, multi_hop_chain, end_reason;
  std::string pricing_unit;
  int64_t price_per_unit = 0;
  int64_t requested_at = 0, started_at = 0, stopped_at = 0;
  int64_t rx_bytes = 0, tx_bytes = 0;
  int64_t total_zeq_charged = -1;  // -1 until settled
};

struct TunnelTerms {
  PricingUnit unit = PricingUnit::kGb;
  uint64_t price = 0;
  bool cover_traffic = false;
  // A relayed pair (relay/relay_events.hpp): the relay's ZID, kept in
  // vpn_tunnels.relay_zid (empty: a direct tunnel, stored as NULL), and the
  // path in multi_hop_chain, "REQUESTER_ZID>TARGET_ZID" (empty when direct).
  std::string relay_zid;
  std::string chain;
};

// The largest usage receipt add_receipt keeps (relay_receipts.receipt's
// CHECK says the same).
inline constexpr size_t MAX_RELAY_RECEIPT_BYTES = 512;

// One row of relay_receipts.
struct RelayReceiptRow {
  int64_t id = 0, tunnel_id = 0;
  int64_t zeqond = 0, up_bytes = 0, down_bytes = 0;
  Bytes receipt;
};

class TunnelStore {
 public:
  TunnelStore(Database& db, Vault& vault, std::string local_zid) : db_(db), vault_(vault), local_zid_(std::move(local_zid)) {}

  // Inserts a pending row, seals its receipt key, and activates it.
  Result<int64_t> open_tunnel(const std::string& peer_zid, const std::string& initiator_zid, const TunnelTerms& terms,
                              uint64_t zeqond);
  // Moves state; refuses anything but pending->active and active->terminated.
  Status transition(int64_t id, const std::string& to, uint64_t zeqond);
  // Writes the counters and a signed checkpoint row (nothing when they have
  // not moved since the last one).
  Status checkpoint(int64_t id, uint64_t rx_bytes, uint64_t tx_bytes, uint64_t zeqond);
  // Writes only the counters of an active row, no ledger row: the cheap
  // write a frequent checkpoint makes between signed ones. Settlement after
  // a crash uses these counters.
  Status record_counters(int64_t id, uint64_t rx_bytes, uint64_t tx_bytes);
  // Runs fn in one transaction (one commit for many rows); when fn fails
  // nothing of it stays. synced=false commits without waiting for the disk
  // (synchronous=NORMAL: safe against a crash of the process, and made
  // durable against a power cut by the next synced commit).
  Status in_one_transaction(const std::function<Status()>& fn, bool synced = true);
  // Settles and terminates: cost into total_zeq_charged and a settlement row.
  Status terminate(int64_t id, uint64_t rx_bytes, uint64_t tx_bytes, uint64_t zeqond, const std::string& reason);
  // Rows left active by a crash are settled with what they recorded.
  Result<int> settle_orphans(uint64_t zeqond);
  // Relay side: keeps a usage receipt the requester signed (verified by the
  // caller) for an active row, byte for byte, with the up/down bytes it
  // acknowledges. Refuses an empty receipt or one over
  // MAX_RELAY_RECEIPT_BYTES, and an unknown or terminated tunnel.
  Status add_receipt(int64_t tunnel_id, ByteSpan signed_receipt, uint64_t up, uint64_t down, uint64_t zeqond);
  // The receipts of a tunnel, oldest first.
  Result<std::vector<RelayReceiptRow>> receipts(int64_t tunnel_id);

  Result<std::vector<TunnelRow>> list(int limit = 100);
  Result<TunnelRow> get(int64_t id);

  Status upsert_peer(const std::string& zid, const std::string& public_key, const std::string& name, uint64_t zeqond);
  Status note_handshake(const std::string& zid, uint64_t zeqond);
  Vault& vault() { return vault_; }
  const std::string& database_path() const { return db_.path(); }

 private:
  // The receipt key of a tunnel, read from the vault once and kept (locked,
  // wiped on close) while the tunnel is open, so checkpoints do not add a
  // vault read and an audit row every time.
  Result<const SecretBuffer*> receipt_key(int64_t id, uint64_t zeqond);
  std::map<int64_t, SecretBuffer> receipt_keys_;
  // What a row has used by `zeqond` with these counters: the Zeqonds since it
  // started and their cost (billing.hpp; nullopt cost on overflow). The one
  // place checkpoint and terminate (and so settle_orphans) take it from.
  struct Usage {
    uint64_t zeqonds;
    std::optional<uint64_t> cost;
  };
  static Usage usage_of(const TunnelRow& row, uint64_t rx, uint64_t tx, uint64_t zeqond);
  Status ledger(int64_t id, const std::string& kind, uint64_t rx, uint64_t tx, uint64_t zeqonds, uint64_t cost,
                uint64_t zeqond);
  Database& db_;
  Vault& vault_;
  std::string local_zid_;
};

}  // namespace zeq
