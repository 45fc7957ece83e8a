// Writes the accounting of relayed pairs (relay/relay_events.hpp) to the
// state store, as TunnelRecorder does for direct tunnels and with the same
// shared pieces (RowCounters, UsageCommits): a vpn_tunnels row opened when a
// pair opens, its counters written by checkpoint() every Zeqond (one
// transaction; a signed usage_ledger row at most every LEDGER_EVERY_Z per
// row), settlement with the final counters when it closes, and the usage
// receipts a relay gets from the paying requester. A store error is logged
// and the pair carries on: accounting never takes relaying down.
//
// The row of a pair, on the relay and on either client:
//   peer_zid       RelayedPair::peer_zid (on the relay: the requester)
//   initiator_zid  the requester (who pays)
//   relay_zid      the relay
//   multi_hop_chain "REQUESTER_ZID>TARGET_ZID"
//   tx_bytes = up (requester -> target), rx_bytes = down (target ->
//                  requester): the requester's point of view on every side,
//                  so the relay's row and the clients' rows compare column by
//                  column. The charge is over up + down either way.
//   pricing_unit, price_per_unit, started/stopped Zeqonds from the pair.
// Rows a crash left active are settled by TunnelStore::settle_orphans
// (TunnelRecorder::settle_orphans at start-up covers these rows too).
// Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "daemon/tunnel_recorder.hpp"
#include "relay/relay_events.hpp"
#include "store/tunnel_store.hpp"

namespace zeq {

class RelayRecorder final : public RelayEvents {
 public:
  static constexpr uint64_t LEDGER_EVERY_Z = UsageCommits::LEDGER_EVERY_Z;

  RelayRecorder(TunnelStore& store, const Clock& clock);

  // Opens the row at pair.started_z (the clock's Zeqond when that is 0).
  void pair_opened(const RelayedPair& pair) override;
  // Keeps the counters in memory; checkpoint() writes them.
  void pair_counters(uint64_t pair_id, const RelayedBytes& bytes) override;
  // Settles the row with these counters at stopped_z; end_reason = reason.
  void pair_closed(uint64_t pair_id, const RelayedBytes& bytes, uint64_t stopped_z, const char* reason) override;
  // Keeps the receipt with the row of an open pair (TunnelStore::add_receipt).
  void receipt(uint64_t pair_id, ByteSpan signed_receipt, const RelayedBytes& acknowledged, uint64_t zeqond) override;

  // Writes the moved counters of every open pair in one transaction; the
  // daemon calls it every Zeqond. False when the store refused the write
  // (the counters stay in memory and are written by a later call).
  bool checkpoint();
  // The vpn_tunnels row of an open pair (for status output).
  std::optional<int64_t> row_of(uint64_t pair_id) const;
  size_t open_pairs() const { return open_.size(); }

  // "REQUESTER_ZID>TARGET_ZID", what multi_hop_chain holds for a pair.
  static std::string chain_of(const RelayedPair& pair);

 private:
  struct OpenPair {
    RowCounters row;      // what the row holds (rx = down, tx = up)
    RelayedBytes bytes;   // the last counters announced
  };

  TunnelStore& store_;
  const Clock& clock_;
  std::map<uint64_t, OpenPair> open_;  // by pair id
  UsageCommits commits_;
};

}  // namespace zeq
