#include "mesh/keypair.hpp"

namespace zeq {

Keypair::Keypair(const SessionKeys& keys, Peer* p, int context_slots, int64_t created_mono_us)
    : peer(p), local_index(keys.local_index), remote_index(keys.remote_index), initiator(keys.initiator),
      created_us(created_mono_us) {
  seal_.reserve(size_t(context_slots));
  open_.reserve(size_t(context_slots));
  for (int i = 0; i < context_slots; ++i) {
    seal_.emplace_back(AeadContext::Direction::kSeal, keys.send_key.span());
    open_.emplace_back(AeadContext::Direction::kOpen, keys.recv_key.span());
  }
}

bool Keypair::replay_may_accept(uint64_t counter) {
  while (replay_lock_.test_and_set(std::memory_order_acquire)) {}
  bool ok = replay_.may_accept(counter);
  replay_lock_.clear(std::memory_order_release);
  return ok;
}

bool Keypair::replay_accept(uint64_t counter) {
  while (replay_lock_.test_and_set(std::memory_order_acquire)) {}
  bool ok = replay_.accept(counter);
  replay_lock_.clear(std::memory_order_release);
  return ok;
}

}  // namespace zeq
