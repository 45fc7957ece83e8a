// The relay role (`role: relay`): pairs of members that asked to reach each
// other through this node, and the forwarding table the data-plane workers
// carry their messages by (mesh/relay_switch.hpp). A pair is set up over
// in-tunnel control messages (protocol/relay_messages.hpp): the requester
// asks (Open), the target is asked (Offer) and must agree (Accept) — no
// member can make the relay send to a node that did not — then the
// requester learns its channel (Opened). Either end may Close; a pair also
// ends when either end's tunnel with the relay goes down.
//
// Admission is the node's: only peers with a session (a YAML peer or one
// that proved a mesh certificate) ever reach this code. Limits per client
// (pairs, bandwidth, burst) and per pair (bandwidth) are enforced here
// (pairs) and by the workers (bytes). Accounting leaves through RelayEvents
// (the daemon writes vpn_tunnels rows); what the threat model lets a relay
// keep goes to the MetadataLog, off by default. Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/modes.hpp"
#include "crypto/random.hpp"
#include "mesh/node.hpp"
#include "mesh/relay_listener.hpp"
#include "mesh/relay_switch.hpp"
#include "protocol/relay_messages.hpp"
#include "relay/metadata_log.hpp"
#include "relay/relay_events.hpp"

namespace zeq {

struct RelayServiceSettings {
  PricingUnit unit = PricingUnit::kGb;
  uint64_t price = 0;
  std::string region;
  uint64_t client_bytes_per_s = 12'500'000;
  uint64_t pair_bytes_per_s = 12'500'000;
  uint64_t queued_bytes_per_client = 1'048'576;
  uint32_t pairs_per_client = 16;
  uint32_t max_pairs = 65'536;  // over all clients
};

class RelayService final : public RelayListener {
 public:
  // An offer the target has not answered within this is refused (timeout).
  static constexpr int64_t OFFER_TIMEOUT_US = TAU_ZQ_US;
  // Pair counters are reported to RelayEvents this often (ticks).
  static constexpr int COUNTERS_EVERY_TICKS = 8;  // one Zeqond
  // Opens a client may send per Zeqond; more are refused (busy).
  static constexpr uint32_t OPENS_PER_Z = 4;
  // Usage receipts kept per pair: one per this many Zeqonds, and the last.
  static constexpr uint64_t RECEIPT_MIN_GAP_Z = 6;

  RelayService(Node& node, const Clock& clock, RandomSource& random, RelayServiceSettings settings,
               RelayEvents* events, MetadataLog* metadata);

  void tunnel_up(Peer& peer) override;
  void tunnel_down(Peer& peer, const char* reason) override;
  void relay_control(Peer& peer, ByteSpan plaintext) override;
  void relay_tick() override;
  // A client sent on a channel that is not one of its pairs here: it is
  // told Close (at most once a Zeqond per client).
  void unknown_channel(Peer& client, uint32_t channel) override;
  // Ends every pair (daemon stopping), settling each.
  void close_all(const char* reason);

  struct PairView {
    uint64_t id = 0;
    std::string requester, target;  // labels
    std::string requester_zid, target_zid;
    uint32_t requester_channel = 0, target_channel = 0;
    bool open = false;
    uint64_t started_z = 0;
    RelayedBytes bytes;
    uint64_t dropped_over_limit = 0, dropped_no_session = 0;
  };
  std::vector<PairView> pairs() const;
  const RelayServiceSettings& settings() const { return settings_; }
  uint64_t refused(RelayReason r) const { return refused_[size_t(r)]; }
  uint64_t pairs_opened() const { return opened_; }

 private:
  struct Pair {
    uint64_t id = 0;
    uint64_t requester = 0, target = 0;  // peer serials
    uint32_t requester_channel = 0, target_channel = 0;
    uint32_t request_id = 0;
    std::string target_zid;  // in memory only (see on_answer)
    bool open = false;
    int64_t offered_us = 0;
    std::shared_ptr<RelayPairCounters> counters;
    RelayedPair info;
    uint64_t receipts = 0, receipt_z = 0, receipt_up = 0, receipt_down = 0;
    Bytes pending_receipt;  // the latest, held back by RECEIPT_MIN_GAP_Z
  };
  void on_open(Peer& requester, const RelayOpen& m);
  void on_answer(Peer& target, const RelayAnswer& m);
  void on_close(Peer& from, const RelayClose& m);
  void on_receipt(Peer& from, ByteSpan receipt);
  void refuse(Peer& requester, uint32_t request_id, RelayReason reason);
  // Ends a pair: the other end(s) told (unless gone), settled, logged.
  void close_pair(uint64_t id, RelayReason reason, uint64_t told_by_serial, const char* why);
  // An open pair's end, once it is out of the table: the ends told, the
  // last receipt kept, the pair settled and logged.
  void settle(const Pair& p, RelayReason reason, uint64_t told_by_serial, const char* why);
  uint32_t new_channel();
  size_t pairs_of(uint64_t serial) const;
  RelayedBytes bytes_of(const Pair& p) const;
  std::shared_ptr<RelayClientBudget> budget_of(uint64_t serial);
  void publish();

  Node& node_;
  const Clock& clock_;
  RandomSource& random_;
  RelayServiceSettings settings_;
  RelayEvents* events_;
  MetadataLog* metadata_;
  std::map<uint64_t, Pair> pairs_;
  std::map<uint32_t, uint64_t> by_channel_;  // either end's channel -> pair id
  std::map<uint64_t, std::shared_ptr<RelayClientBudget>> budgets_;  // by client serial
  std::map<uint64_t, std::pair<uint64_t, uint32_t>> open_rate_;     // by client serial: (Zeqond, Opens in it)
  std::map<uint64_t, uint64_t> stale_close_z_;                       // by client serial: the last unknown-channel Close
  uint64_t next_pair_id_ = 1;
  uint64_t opened_ = 0;
  std::array<uint64_t, RELAY_REASON_MAX + 1> refused_{};
  int ticks_ = 0;
};

}  // namespace zeq
