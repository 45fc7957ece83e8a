// Receiver index -> Keypair, looked up by workers for every data message in
// O(1) without a lock. An index is (random 16 bits << 16) | slot: the slot
// finds the entry, the full index must still match, and the random part keeps
// indices unpredictable. Only the control thread allocates and publishes.
// Workers may also ask whether an index is reserved at all: a handshake of
// ours in flight holds one before it has a Keypair to publish.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace zeq {

class Keypair;

class IndexTable {
 public:
  static constexpr uint32_t SLOTS = 1u << 16;
  IndexTable();

  // Reserves a free slot for a handshake in flight. nullopt when full.
  std::optional<uint32_t> reserve();
  void publish(uint32_t index, Keypair* kp);
  // Unpublishes (if published) and frees the slot.
  void release(uint32_t index);
  Keypair* lookup(uint32_t index) const;
  // Any thread: `index` is reserved now (from reserve() to release()),
  // published or not. O(1), no lock.
  bool reserved(uint32_t index) const;

 private:
  bool slot_taken(uint32_t slot) const;
  uint32_t reserved_index(uint32_t slot, std::memory_order order) const;
  void set_reserved(uint32_t slot, uint32_t index);
  // Both arrays come from calloc: above the daemon's fixed mmap threshold
  // (128 KiB, daemon/main.cpp), so glibc maps fresh zeroed pages for them
  // and the 786 KB stay unresident until slots are used (a node with a few
  // peers touches a few pages). Zero means empty in both,
  // and every access goes through std::atomic_ref.
  struct FreeDeleter {
    void operator()(void* p) const;
  };
  std::unique_ptr<Keypair*[], FreeDeleter> slots_;
  // Per slot, the full index reserved in it, stored XOR vacant(slot), so the
  // zero a fresh slot holds reads as vacant(slot): a value whose slot bits
  // name another slot, which no index of this slot can equal. Written by the
  // control thread only.
  std::unique_ptr<uint32_t[], FreeDeleter> reserved_;
  static uint32_t vacant(uint32_t slot) { return slot ^ 1u; }
  uint32_t used_ = 0;
};

}  // namespace zeq
