#include "mesh/staged_packets.hpp"

namespace zeq {

bool StagedPackets::push(ByteSpan packet) {
  std::lock_guard lock(mutex_);
  bool kept_all = true;
  if (packets_.size() >= CAPACITY) {
    packets_.pop_front();
    kept_all = false;
  }
  packets_.emplace_back(packet.begin(), packet.end());
  return kept_all;
}

std::vector<Bytes> StagedPackets::take() {
  std::lock_guard lock(mutex_);
  std::vector<Bytes> out(std::make_move_iterator(packets_.begin()), std::make_move_iterator(packets_.end()));
  packets_.clear();
  return out;
}

size_t StagedPackets::clear() {
  std::lock_guard lock(mutex_);
  size_t n = packets_.size();
  packets_.clear();
  return n;
}

size_t StagedPackets::size() const {
  std::lock_guard lock(mutex_);
  return packets_.size();
}

}  // namespace zeq
