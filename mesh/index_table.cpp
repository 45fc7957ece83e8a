#include "mesh/index_table.hpp"

#include "crypto/random.hpp"
#include "mesh/keypair.hpp"

namespace zeq {

IndexTable::IndexTable() : slots_(new std::atomic<Keypair*>[SLOTS]), reserved_(SLOTS, false) {
  for (uint32_t i = 0; i < SLOTS; ++i) slots_[i].store(nullptr, std::memory_order_relaxed);
}

std::optional<uint32_t> IndexTable::reserve() {
  if (used_ >= SLOTS - 1) return std::nullopt;
  uint32_t slot;
  do {
    slot = random_uniform(SLOTS);
  } while (reserved_[slot]);
  reserved_[slot] = true;
  ++used_;
  return (random_u32() & 0xffff0000u) | slot;
}

void IndexTable::publish(uint32_t index, Keypair* kp) { slots_[index & (SLOTS - 1)].store(kp, std::memory_order_release); }

void IndexTable::release(uint32_t index) {
  uint32_t slot = index & (SLOTS - 1);
  slots_[slot].store(nullptr, std::memory_order_release);
  if (reserved_[slot]) {
    reserved_[slot] = false;
    --used_;
  }
}

Keypair* IndexTable::lookup(uint32_t index) const {
  Keypair* kp = slots_[index & (SLOTS - 1)].load(std::memory_order_acquire);
  return kp && kp->local_index == index ? kp : nullptr;
}

}  // namespace zeq
