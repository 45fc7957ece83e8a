// What the relay role (relay/relay_service.hpp) and the client side of
// relayed paths (relay/relay_client.hpp) announce for accounting, without
// knowing who listens: the daemon's RelayRecorder writes vpn_tunnels rows,
// usage-ledger rows and receipts (relay/ never writes SQLite). Called on the
// control thread; pair ids are unique within one run of the daemon.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.hpp"
#include "core/modes.hpp"
#include "core/net_address.hpp"

namespace zeq {

// One relayed pair as one side sees it. On the relay: requester A (who asked
// for the pair and pays), target B (who agreed), both addresses. On a client:
// the other end and the relay.
struct RelayedPair {
  uint64_t pair_id = 0;          // this run's id (the relay's channel pair, or the client's)
  bool on_relay = false;         // the relay's own row (true) or a client's (false)
  std::string relay_zid;
  std::string requester_zid;     // pays
  std::string target_zid;
  std::string local_zid;         // who keeps the row
  std::string peer_zid;          // the row's peer: on the relay the requester, on a client the other end
  UdpEndpoint requester_endpoint, target_endpoint;  // relay only (metadata); empty on clients
  PricingUnit unit = PricingUnit::kGb;
  uint64_t price = 0;            // the relay's advertised price (integer, per unit)
  uint64_t started_z = 0;
};

// Bytes of one pair, counted as the e2e messages' lengths (what the relay
// forwards), so both sides count the same thing: `up` from the requester
// towards the target, `down` back.
struct RelayedBytes {
  uint64_t up = 0, down = 0;
  uint64_t total() const { return up + down; }
};

class RelayEvents {
 public:
  virtual ~RelayEvents() = default;
  virtual void pair_opened(const RelayedPair& pair) = 0;
  // Counters now (every Zeqond while they move); written cheaply, not a
  // ledger row each time.
  virtual void pair_counters(uint64_t pair_id, const RelayedBytes& bytes) = 0;
  // The pair ended (reason: closed, client_gone, target_gone, relay_gone,
  // idle, limit, daemon_stopped): settle with the final counters.
  virtual void pair_closed(uint64_t pair_id, const RelayedBytes& bytes, uint64_t stopped_z, const char* reason) = 0;
  // Relay side: a usage receipt the requester signed (already verified:
  // protocol/relay_messages.hpp open_usage_receipt), kept in the ledger as
  // proof of what was charged.
  virtual void receipt(uint64_t pair_id, ByteSpan signed_receipt, const RelayedBytes& acknowledged,
                       uint64_t zeqond) = 0;
};

}  // namespace zeq
