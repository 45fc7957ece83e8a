// Hears the kernel announce that a local address or route changed
// (rtnetlink multicast groups: IPv4/IPv6 addresses and routes), so the node
// can roam at once instead of polling. The netlink socket is non-blocking;
// the caller watches fd() on its event loop and calls drain() when it is
// readable. Events about the tunnel's own interface are ignored (its
// addresses and routes are ours). Not every event is a move: after a burst
// of them, underlay_changed() says whether the usable addresses or the
// default routes are really different from the last time it looked.
#pragma once

#include <memory>

#include "core/result.hpp"

namespace zeq {

class AddressMonitor {
 public:
  static Result<std::unique_ptr<AddressMonitor>> open(int ignore_ifindex);
  ~AddressMonitor();
  AddressMonitor(const AddressMonitor&) = delete;
  AddressMonitor& operator=(const AddressMonitor&) = delete;

  int fd() const;
  // Reads every pending message; true when one of them was an address or
  // route change of another interface than the ignored one.
  bool drain();
  // Reads the usable addresses (global and site scope, DAD done, not
  // deprecated) of every other interface and the default routes of every
  // table but the local one, compares them with the last reading (the first
  // one is taken by open()) and keeps the new one. True when they differ,
  // when they could not be read, or when an address or default route was
  // removed since the last call (even if put back since) or events were lost.
  bool underlay_changed();

  struct Impl;  // tun/address_monitor.cpp (its netlink callback reads it)

 private:
  explicit AddressMonitor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zeq
