// The TUN interface: one multi-queue device whose queues are handed one to
// each data-plane worker. The device is not persistent, so closing the last
// queue removes the interface with its addresses and routes; that is how
// shutdown and failed start-ups leave nothing behind.
//
// With offloads the queues carry a virtio-net header in front of every
// packet (IFF_VNET_HDR) and the kernel hands over TCP (and, where it can,
// UDP) super-packets of up to 64 KB that the workers split themselves, and
// takes coalesced ones back: one read or write per 64 KB instead of per
// 1.4 KB. Kernels that refuse get the plain device, and say why.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"

namespace zeq {

class TunDevice {
 public:
  // Creates interface `name` with `queues` queues (non-blocking fds);
  // with `offloads`, asks for the virtio-net header and TSO/USO, and falls
  // back to a plain device when the kernel refuses them.
  static Result<TunDevice> create(const std::string& name, int queues, bool offloads = false);
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
  // Every packet read or written carries a virtio-net header (VNET_HDR_LEN).
  bool vnet_hdr() const { return vnet_hdr_; }
  // What the kernel took, e.g. "tso4 tso6 uso4 uso6", or why there are no
  // offloads ("off (interface.offloads: off)", "off (kernel refused ...)").
  const std::string& offload_summary() const { return offload_summary_; }
  // Closes every queue now; the kernel then deletes the interface.
  void close();

 private:
  TunDevice() = default;
  std::string name_;
  int ifindex_ = 0;
  std::vector<int> fds_;
  std::vector<int> far_ends_;  // detached(): the unused ends of the pairs
  bool vnet_hdr_ = false;
  std::string offload_summary_;
  // Opens `queues` more queues with the given IFF_* flags.
  Status open_queues(int queues, short flags);
  // TUNSETOFFLOAD with TSO (and USO when the kernel has it); the summary
  // of what it took, or an error when it took nothing.
  Result<std::string> enable_offloads();
};

}  // namespace zeq
