#include "daemon/address_watch.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "tun/address_monitor.hpp"

namespace zeq {

namespace asio = boost::asio;

struct AddressWatch::Impl : std::enable_shared_from_this<AddressWatch::Impl> {
  Impl(asio::io_context& io, std::unique_ptr<AddressMonitor> m, std::function<void()> fn)
      : monitor(std::move(m)), descriptor(io, monitor->fd()), settle(io), changed(std::move(fn)) {}
  ~Impl() {
    // The monitor owns the fd; the descriptor must not close it too.
    (void)descriptor.release();
  }
  void wait() {
    descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                          [weak = weak_from_this()](const boost::system::error_code& ec) {
                            auto self = weak.lock();
                            if (!self || ec) return;
                            if (self->monitor->drain()) self->arm();
                            self->wait();
                          });
  }
  void arm() {
    settle.expires_after(std::chrono::milliseconds(SETTLE_MS));
    settle.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec) return;
      if (self->monitor->underlay_changed())
        self->changed();
      else
        spdlog::debug("address/route events, but the usable addresses and default routes are as they were");
    });
  }
  std::unique_ptr<AddressMonitor> monitor;
  asio::posix::stream_descriptor descriptor;
  asio::steady_timer settle;
  std::function<void()> changed;
};

AddressWatch::AddressWatch(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

AddressWatch::~AddressWatch() {
  if (!impl_) return;
  boost::system::error_code ignored;
  impl_->descriptor.cancel(ignored);
  impl_->settle.cancel();
}

Result<std::unique_ptr<AddressWatch>> AddressWatch::start(asio::io_context& io, int tunnel_ifindex,
                                                         std::function<void()> changed) {
  auto monitor = AddressMonitor::open(tunnel_ifindex);
  if (!monitor) return monitor.status();
  auto impl = std::make_shared<Impl>(io, std::move(monitor.value()), std::move(changed));
  impl->wait();
  return std::unique_ptr<AddressWatch>(new AddressWatch(std::move(impl)));
}

}  // namespace zeq
