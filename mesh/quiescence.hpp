// Deferred freeing of keypairs that workers may still be reading. Each worker
// bumps its counter at quiescent points (between batches) and marks itself
// offline while it sleeps in poll(). A retired keypair is freed once every
// worker has passed a quiescent point or been offline since it was retired,
// so workers read keypair pointers with no lock and no reference count.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "mesh/keypair.hpp"

namespace zeq {

class Quiescence {
 public:
  explicit Quiescence(int workers);

  // Worker side. Counter even = running, odd = offline.
  void checkpoint(int w) { slots_[size_t(w)].seq.fetch_add(2, std::memory_order_seq_cst); }
  void go_offline(int w) { slots_[size_t(w)].seq.fetch_add(1, std::memory_order_seq_cst); }
  void go_online(int w) { slots_[size_t(w)].seq.fetch_add(1, std::memory_order_seq_cst); }

  // Control thread side. The keypair must already be unpublished.
  void retire(std::unique_ptr<Keypair> kp);
  // Frees every retired keypair no worker can still see.
  void collect();
  // Frees everything; only once the workers have stopped.
  void drain() { retired_.clear(); }
  size_t pending() const { return retired_.size(); }

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> seq{0};
  };
  struct Retired {
    std::unique_ptr<Keypair> kp;
    std::vector<uint64_t> snapshot;
  };
  std::vector<Slot> slots_;
  std::vector<Retired> retired_;
};

}  // namespace zeq
