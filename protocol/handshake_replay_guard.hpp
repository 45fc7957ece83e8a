// Per-peer defence against replayed handshake initiations (PROTOCOL.md 4.2):
// a payload Zeqond lower than the last accepted one is stale, and a
// (Zeqond, nonce) pair already seen is a replay. Because Zeqonds never go
// back, only nonces of the newest accepted Zeqond need remembering.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "protocol/handshake.hpp"

namespace zeq {

class HandshakeReplayGuard {
 public:
  // kNone when (zeqond, nonce) is new; does not record it.
  HandshakeReject check(uint64_t zeqond, const std::array<uint8_t, wire::NONCE_SIZE>& nonce) const;
  // Records an accepted initiation.
  void accept(uint64_t zeqond, const std::array<uint8_t, wire::NONCE_SIZE>& nonce);

  uint64_t last_accepted_zeqond() const { return last_zeqond_; }

 private:
  // More handshakes than this within one Zeqond from one peer are refused.
  static constexpr size_t MAX_NONCES_PER_ZEQOND = 64;
  uint64_t last_zeqond_ = 0;
  bool any_ = false;
  std::vector<std::array<uint8_t, wire::NONCE_SIZE>> nonces_;
};

}  // namespace zeq
