#include "mesh/keypair.hpp"

namespace zeq {

Keypair::Keypair(const SessionKeys& keys, Peer* p, int64_t created_mono_us)
    : peer(p), local_index(keys.local_index), remote_index(keys.remote_index), initiator(keys.initiator),
      created_us(created_mono_us) {}

Result<std::unique_ptr<Keypair>> Keypair::create(const SessionKeys& keys, Peer* peer, int context_slots,
                                                 int64_t created_mono_us) {
  std::unique_ptr<Keypair> kp(new Keypair(keys, peer, created_mono_us));
  kp->seal_.reserve(size_t(context_slots));
  kp->open_.reserve(size_t(context_slots));
  for (int i = 0; i < context_slots; ++i) {
    auto seal = AeadContext::create(AeadContext::Direction::kSeal, keys.send_key.span());
    if (!seal) return seal.status();
    auto open = AeadContext::create(AeadContext::Direction::kOpen, keys.recv_key.span());
    if (!open) return open.status();
    kp->seal_.push_back(std::move(seal.value()));
    kp->open_.push_back(std::move(open.value()));
  }
  return kp;
}

void Keypair::break_sealing_for_tests() {
  for (auto& s : seal_) s = AeadContext();
}

bool Keypair::replay_accept(uint64_t counter) {
  // Test before test-and-set, so a waiter spins on a shared line instead of
  // taking it exclusive on every try.
  while (replay_lock_.test_and_set(std::memory_order_acquire))
    while (replay_lock_.test(std::memory_order_relaxed)) {}
  bool ok = replay_.accept(counter);
  replay_lock_.clear(std::memory_order_release);
  return ok;
}

}  // namespace zeq
