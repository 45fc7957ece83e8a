// The TUN interface: one multi-queue device whose queues are handed one to
// each data-plane worker. The device is not persistent, so closing the last
// queue removes the interface with its addresses and routes; that is how
// shutdown and failed start-ups leave nothing behind.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"

namespace zeq {

class TunDevice {
 public:
  // Creates interface `name` with `queues` queues (non-blocking fds).
  static Result<TunDevice> create(const std::string& name, int queues);
  // No interface at all (the relay role): `queues` datagram socket pairs, of
  // which the workers get one end each; nothing is ever written to the
  // other, so their reads find nothing. ifindex() is 0.
  static Result<TunDevice> detached(int queues);

  TunDevice(TunDevice&& o) noexcept;
  TunDevice& operator=(TunDevice&&) = delete;
  TunDevice(const TunDevice&) = delete;
  ~TunDevice();

  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }
  int queue_fd(int i) const { return fds_[i]; }
  int queue_count() const { return int(fds_.size()); }
  // Closes every queue now; the kernel then deletes the interface.
  void close();

 private:
  TunDevice() = default;
  std::string name_;
  int ifindex_ = 0;
  std::vector<int> fds_;
  std::vector<int> far_ends_;  // detached(): the unused ends of the pairs
};

}  // namespace zeq
