// Receiver index -> Keypair, looked up by workers for every data message in
// O(1) without a lock. An index is (random 16 bits << 16) | slot: the slot
// finds the entry, the full index must still match, and the random part keeps
// indices unpredictable. Only the control thread allocates and publishes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

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

 private:
  std::unique_ptr<std::atomic<Keypair*>[]> slots_;
  std::vector<bool> reserved_;  // control thread only
  uint32_t used_ = 0;
};

}  // namespace zeq
