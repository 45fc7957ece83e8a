#include "protocol/handshake_replay_guard.hpp"

#include <algorithm>

namespace zeq {

HandshakeReject HandshakeReplayGuard::check(uint64_t zeqond, const std::array<uint8_t, wire::NONCE_SIZE>& nonce) const {
  if (!any_ || zeqond > last_zeqond_) return HandshakeReject::kNone;
  if (zeqond < last_zeqond_) return HandshakeReject::kStaleZeqond;
  if (nonces_.size() >= MAX_NONCES_PER_ZEQOND) return HandshakeReject::kReplay;
  if (std::find(nonces_.begin(), nonces_.end(), nonce) != nonces_.end()) return HandshakeReject::kReplay;
  return HandshakeReject::kNone;
}

void HandshakeReplayGuard::accept(uint64_t zeqond, const std::array<uint8_t, wire::NONCE_SIZE>& nonce) {
  if (!any_ || zeqond > last_zeqond_) {
    nonces_.clear();
    last_zeqond_ = zeqond;
    any_ = true;
  }
  nonces_.push_back(nonce);
}

}  // namespace zeq
