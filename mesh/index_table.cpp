#include "mesh/index_table.hpp"

#include "crypto/random.hpp"
#include "mesh/keypair.hpp"

namespace zeq {

IndexTable::IndexTable() : slots_(new std::atomic<Keypair*>[SLOTS]), reserved_(new std::atomic<uint32_t>[SLOTS]) {
  for (uint32_t i = 0; i < SLOTS; ++i) {
    slots_[i].store(nullptr, std::memory_order_relaxed);
    reserved_[i].store(vacant(i), std::memory_order_relaxed);
  }
}

bool IndexTable::slot_taken(uint32_t slot) const {
  return (reserved_[slot].load(std::memory_order_relaxed) & (SLOTS - 1)) == slot;
}

std::optional<uint32_t> IndexTable::reserve() {
  if (used_ >= SLOTS - 1) return std::nullopt;
  uint32_t slot;
  do {
    slot = random_uniform(SLOTS);
  } while (slot_taken(slot));
  const uint32_t index = (random_u32() & 0xffff0000u) | slot;
  reserved_[slot].store(index, std::memory_order_release);
  ++used_;
  return index;
}

void IndexTable::publish(uint32_t index, Keypair* kp) { slots_[index & (SLOTS - 1)].store(kp, std::memory_order_release); }

void IndexTable::release(uint32_t index) {
  uint32_t slot = index & (SLOTS - 1);
  slots_[slot].store(nullptr, std::memory_order_release);
  if (slot_taken(slot)) {
    reserved_[slot].store(vacant(slot), std::memory_order_release);
    --used_;
  }
}

bool IndexTable::reserved(uint32_t index) const {
  return reserved_[index & (SLOTS - 1)].load(std::memory_order_acquire) == index;
}

Keypair* IndexTable::lookup(uint32_t index) const {
  Keypair* kp = slots_[index & (SLOTS - 1)].load(std::memory_order_acquire);
  return kp && kp->local_index == index ? kp : nullptr;
}

}  // namespace zeq
