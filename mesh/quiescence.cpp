#include "mesh/quiescence.hpp"

#include <algorithm>

namespace zeq {

Quiescence::Quiescence(int workers) : slots_(size_t(workers)) {}

void Quiescence::retire(std::shared_ptr<void> object) {
  if (!object) return;
  Retired r{std::move(object), {}};
  r.snapshot.reserve(slots_.size());
  for (const auto& s : slots_) r.snapshot.push_back(s.seq.load(std::memory_order_seq_cst));
  retired_.push_back(std::move(r));
}

void Quiescence::collect() {
  auto safe = [this](const Retired& r) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      uint64_t then = r.snapshot[i];
      if ((then & 1) == 0 && slots_[i].seq.load(std::memory_order_seq_cst) == then) return false;
    }
    return true;
  };
  retired_.erase(std::remove_if(retired_.begin(), retired_.end(), safe), retired_.end());
}

}  // namespace zeq
