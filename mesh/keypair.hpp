// One session's keys in one direction pair, as the data plane uses them:
// pre-keyed AES-GCM contexts (one per worker plus one for the control thread,
// because an OpenSSL context cannot be shared between threads), the send
// counter, and the receive replay window. Created by the control thread after
// a handshake, published to workers by pointer, freed through Quiescence
// (the contexts wipe their key schedules when freed).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/constants.hpp"
#include "core/result.hpp"
#include "crypto/aead.hpp"
#include "protocol/handshake.hpp"
#include "protocol/replay_window.hpp"

namespace zeq {

class Peer;

// The line size that keeps fields written per packet apart from fields every
// worker reads per packet (false sharing). 64 on x86-64 and most ARM64
// cores; std::hardware_destructive_interference_size would say the same but
// GCC 12 warns on any use of it (-Winterference-size: its value may change
// with -mtune), and layouts should not.
inline constexpr size_t CACHE_LINE = 64;

// Layout: the fields every worker reads per packet (indices, peer, creation
// time, the contexts' vectors) come first and are written only before the
// keypair is published; the send counter (written per packet sent) and the
// replay state (written per packet received, possibly by another worker)
// each get cache lines of their own, so neither write invalidates the line
// the readers use nor each other's.
class Keypair {
 public:
  // context_slots = number of workers + 1 (the last slot is the control
  // thread's). An error, not an exception, when OpenSSL cannot key a
  // context: the handshake fails, the daemon carries on.
  static Result<std::unique_ptr<Keypair>> create(const SessionKeys& keys, Peer* peer, int context_slots,
                                                 int64_t created_mono_us);

  Peer* const peer;
  const uint32_t local_index;
  const uint32_t remote_index;
  const bool initiator;
  const int64_t created_us;

  AeadContext& sealer(int slot) { return seal_[size_t(slot)]; }
  AeadContext& opener(int slot) { return open_[size_t(slot)]; }

  // Next send counter; callers drop the packet when it reaches the limit.
  uint64_t next_counter() { return send_counter_.fetch_add(1, std::memory_order_relaxed); }
  // Gives back a counter whose packet was never sent (its seal failed), if
  // no later one was taken meanwhile; otherwise it stays an unused gap,
  // which the receiver's window tolerates.
  void return_counter(uint64_t counter) {
    uint64_t expected = counter + 1;
    send_counter_.compare_exchange_strong(expected, counter, std::memory_order_relaxed);
  }
  // Tests only: every seal under this key fails from now on, as it would if
  // OpenSSL could not encrypt.
  void break_sealing_for_tests();
  bool exhausted() const { return send_counter_.load(std::memory_order_relaxed) >= REKEY_AFTER_MESSAGES; }

  bool expired(int64_t now_us) const { return now_us - created_us >= zeqonds_to_us(REJECT_AFTER_Z); }
  bool needs_rekey(int64_t now_us) const { return now_us - created_us >= zeqonds_to_us(REKEY_AFTER_Z); }

  // Replay check, one lock per received packet at most. replay_may_accept
  // (before the AEAD open) takes no lock: it reads the window's atomic words
  // and only rejects what is certainly a replay or too old (a hint; see
  // protocol/replay_window.cpp). replay_accept (after the open) does the
  // real check-and-set under a spin flag. Not lock-free: sliding the window
  // clears blocks that a concurrent acceptor could be setting a bit in, and
  // doing that without a lock would need a CAS loop per block; contention is
  // rare (one peer's packets hash to one socket under SO_REUSEPORT, so one
  // worker sees them), so the uncontended flag costs one atomic exchange.
  bool replay_may_accept(uint64_t counter) const { return replay_.may_accept(counter); }
  bool replay_accept(uint64_t counter);

  // Set by the first packet that authenticates; for the responder that is
  // the key confirmation that lets the new key become current. Written once,
  // read per packet: it stays with the read-mostly fields.
  std::atomic<bool> received_any{false};

 private:
  Keypair(const SessionKeys& keys, Peer* peer, int64_t created_mono_us);
  std::vector<AeadContext> seal_;
  std::vector<AeadContext> open_;
  // ---- written per packet: own cache lines (see the class comment) ----
  alignas(CACHE_LINE) std::atomic<uint64_t> send_counter_{0};
  alignas(CACHE_LINE) std::atomic_flag replay_lock_ = ATOMIC_FLAG_INIT;
  ReplayWindow replay_;
};

}  // namespace zeq
