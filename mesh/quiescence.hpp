// Deferred freeing of what workers may still be reading (keypairs, peers,
// peer tables). Each worker
// bumps its counter at quiescent points (between batches) and marks itself
// offline while it sleeps in poll(). A retired keypair is freed once every
// worker has passed a quiescent point or been offline since it was retired,
// so workers read those pointers with no lock and no reference count.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>


namespace zeq {

class Quiescence {
 public:
  explicit Quiescence(int workers);

  // Worker side. Counter even = running, odd = offline.
  void checkpoint(int w) { slots_[size_t(w)].seq.fetch_add(2, std::memory_order_seq_cst); }
  void go_offline(int w) { slots_[size_t(w)].seq.fetch_add(1, std::memory_order_seq_cst); }
  void go_online(int w) { slots_[size_t(w)].seq.fetch_add(1, std::memory_order_seq_cst); }

  // Control thread side. The object must already be unpublished; it is
  // destroyed (keypairs wipe their keys) once no worker can still see it.
  void retire(std::shared_ptr<void> object);
  // Frees every retired object no worker can still see.
  void collect();
  // Frees everything; only once the workers have stopped.
  void drain() { retired_.clear(); }
  size_t pending() const { return retired_.size(); }

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> seq{0};
  };
  struct Retired {
    std::shared_ptr<void> object;
    std::vector<uint64_t> snapshot;
  };
  std::vector<Slot> slots_;
  std::vector<Retired> retired_;
};

}  // namespace zeq
