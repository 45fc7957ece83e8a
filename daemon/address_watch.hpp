// Roaming without polling: watches the kernel's address and route events
// (tun/address_monitor.hpp) on the control thread's event loop and runs a
// function once they settle (a burst of events, as an interface going down
// and up makes, is one change) and the usable addresses or default routes
// really differ (a lease renewal or a container's veth is not a move).
// Stops when destroyed. Boost.Asio stays in
// the .cpp file.
#pragma once

#include <functional>
#include <memory>

#include "core/result.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

class AddressWatch {
 public:
  // Events quieter than this for so long count as one change.
  static constexpr int SETTLE_MS = 30;
  static Result<std::unique_ptr<AddressWatch>> start(boost::asio::io_context& io, int tunnel_ifindex,
                                                     std::function<void()> changed);
  ~AddressWatch();

 private:
  struct Impl;
  explicit AddressWatch(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace zeq
