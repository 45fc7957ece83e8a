#include "mesh/index_table.hpp"

#include <cstdlib>
#include <new>

#include "crypto/random.hpp"
#include "mesh/keypair.hpp"

namespace zeq {

void IndexTable::FreeDeleter::operator()(void* p) const { std::free(p); }

namespace {
template <typename T>
T* zeroed_array(size_t n) {
  void* p = std::calloc(n, sizeof(T));
  if (!p) throw std::bad_alloc();  // at construction only, like new[]
  return static_cast<T*>(p);
}
}  // namespace

IndexTable::IndexTable() : slots_(zeroed_array<Keypair*>(SLOTS)), reserved_(zeroed_array<uint32_t>(SLOTS)) {}

uint32_t IndexTable::reserved_index(uint32_t slot, std::memory_order order) const {
  return std::atomic_ref<uint32_t>(reserved_[slot]).load(order) ^ vacant(slot);
}

void IndexTable::set_reserved(uint32_t slot, uint32_t index) {
  std::atomic_ref<uint32_t>(reserved_[slot]).store(index ^ vacant(slot), std::memory_order_release);
}

bool IndexTable::slot_taken(uint32_t slot) const {
  return (reserved_index(slot, std::memory_order_relaxed) & (SLOTS - 1)) == slot;
}

std::optional<uint32_t> IndexTable::reserve() {
  if (used_ >= SLOTS - 1) return std::nullopt;
  uint32_t slot;
  do {
    slot = random_uniform(SLOTS);
  } while (slot_taken(slot));
  const uint32_t index = (random_u32() & 0xffff0000u) | slot;
  set_reserved(slot, index);
  ++used_;
  return index;
}

void IndexTable::publish(uint32_t index, Keypair* kp) {
  std::atomic_ref<Keypair*>(slots_[index & (SLOTS - 1)]).store(kp, std::memory_order_release);
}

void IndexTable::release(uint32_t index) {
  uint32_t slot = index & (SLOTS - 1);
  std::atomic_ref<Keypair*>(slots_[slot]).store(nullptr, std::memory_order_release);
  if (slot_taken(slot)) {
    set_reserved(slot, vacant(slot));
    --used_;
  }
}

bool IndexTable::reserved(uint32_t index) const {
  return reserved_index(index & (SLOTS - 1), std::memory_order_acquire) == index;
}

Keypair* IndexTable::lookup(uint32_t index) const {
  Keypair* kp = std::atomic_ref<Keypair*>(slots_[index & (SLOTS - 1)]).load(std::memory_order_acquire);
  return kp && kp->local_index == index ? kp : nullptr;
}

}  // namespace zeq
