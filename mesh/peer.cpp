#include "mesh/peer.hpp"

#include "mesh/allowed_ips.hpp"

namespace zeq {

Peer::Peer(const PeerSettings& s, uint64_t peer_serial, std::shared_ptr<StagedBudget> staged_budget)
    : settings(s), serial(peer_serial), key{s.zid, s.public_key}, staged(std::move(staged_budget)), cookie(s.public_key) {
  if (s.endpoint) endpoint.store(*s.endpoint);
  relays_for_us.store(s.is_relay, std::memory_order_relaxed);
}

void Peer::publish_current(Keypair* kp) {
  std::lock_guard lock(switch_mutex_);
  current.store(kp, std::memory_order_release);
  if (awaiting_ == kp) awaiting_ = nullptr;
}

void Peer::await_confirmation(Keypair* kp) {
  std::lock_guard lock(switch_mutex_);
  awaiting_ = kp;
}

void Peer::unpublish(const Keypair* kp, Keypair* fallback) {
  std::lock_guard lock(switch_mutex_);
  if (current.load(std::memory_order_relaxed) == kp) current.store(fallback, std::memory_order_release);
  if (awaiting_ == kp) awaiting_ = nullptr;
}

bool Peer::confirm(Keypair* kp) {
  std::lock_guard lock(switch_mutex_);
  if (awaiting_ != kp) return false;  // not the new session, or already gone
  awaiting_ = nullptr;
  current.store(kp, std::memory_order_release);
  return true;
}

void Peer::apply_traffic_shape(CoverMode node_cover, PaddingPolicy node_padding) {
  padding.store(uint8_t(settings.padding.value_or(node_padding)), std::memory_order_relaxed);
  CoverMode mode = settings.cover.value_or(node_cover);
  if (cover_override == false) mode = CoverMode::kOff;
  else if (cover_override == true && mode == CoverMode::kOff) mode = CoverMode::kConstant;
  if (mode != cover_mode) {
    cover_mode = mode;
    cover.reset();
  }
}

std::vector<IpPrefix> Peer::effective_allowed_ips() const {
  if (!certificate) return certified_only ? std::vector<IpPrefix>{} : settings.allowed_ips;
  std::vector<IpPrefix> cert;
  for (const auto& p : certificate->body.allowed_ips) cert.push_back(p.network());
  return certified_only ? cert : intersect_prefixes(settings.allowed_ips, cert);
}

}  // namespace zeq
