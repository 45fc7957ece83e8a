#include "mesh/staged_packets.hpp"

namespace zeq {

bool StagedBudget::take_one() {
  size_t n = held_.load(std::memory_order_relaxed);
  do {
    if (n >= limit_) return false;
  } while (!held_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

StagedPackets::~StagedPackets() {
  if (budget_) budget_->give_back(packets_.size());
}

bool StagedPackets::push(ByteSpan packet) {
  std::lock_guard lock(mutex_);
  bool kept_all = true;
  if (packets_.size() >= CAPACITY || (budget_ && !budget_->take_one())) {
    // Full, here or node-wide: the newest packets are the ones worth
    // sending when the session comes (a retried SYN, the latest query).
    if (packets_.empty()) return false;  // the node's budget is spent on other peers
    packets_.pop_front();
    kept_all = false;
  }
  packets_.emplace_back(packet.begin(), packet.end());
  return kept_all;
}

std::vector<Bytes> StagedPackets::take() {
  std::lock_guard lock(mutex_);
  std::vector<Bytes> out(std::make_move_iterator(packets_.begin()), std::make_move_iterator(packets_.end()));
  if (budget_) budget_->give_back(packets_.size());
  packets_.clear();
  return out;
}

size_t StagedPackets::clear() {
  std::lock_guard lock(mutex_);
  size_t n = packets_.size();
  if (budget_) budget_->give_back(n);
  packets_.clear();
  return n;
}

size_t StagedPackets::size() const {
  std::lock_guard lock(mutex_);
  return packets_.size();
}

}  // namespace zeq
