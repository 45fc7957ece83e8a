// What the data-plane workers share: the peers, cryptokey routes and the
// index table. Built before the workers start; the workers only read it (the
// per-peer atomics aside).
#pragma once

#include <memory>
#include <vector>

#include "crypto/hash.hpp"
#include "mesh/allowed_ips.hpp"
#include "mesh/control_inbox.hpp"
#include "mesh/counters.hpp"
#include "mesh/index_table.hpp"
#include "mesh/peer.hpp"
#include "mesh/quiescence.hpp"

namespace zeq {

struct DataPlane {
  DataPlane(int worker_count, int tun_mtu) : workers(worker_count), mtu(tun_mtu), quiescence(worker_count),
                                             counters(size_t(worker_count)) {}

  const int workers;
  const int mtu;
  std::vector<std::unique_ptr<Peer>> peers;
  AllowedIps routes;
  IndexTable index;
  Quiescence quiescence;
  Digest32 own_mac1_key{};
  ControlInbox* inbox = nullptr;
  std::vector<WorkerCounters> counters;  // one per worker

  // Slot of the control thread's AEAD contexts in every Keypair.
  int control_slot() const { return workers; }

  // Flags the peer for the control thread, posting at most one wake-up.
  void request_attention(Peer& peer, bool handshake) {
    if (handshake) peer.wants_handshake.store(true, std::memory_order_relaxed);
    if (!peer.wants_attention.exchange(true, std::memory_order_acq_rel)) inbox->peer_needs_attention(peer.id);
  }
};

}  // namespace zeq
