#include "daemon/periodic_task.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace zeq {

struct PeriodicTask::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context& io, std::chrono::microseconds e, std::function<void()> f)
      : timer(io), every(e), fn(std::move(f)) {}
  void wait() {
    timer.expires_after(every);
    // A weak reference: a wait still queued when the task is gone does nothing.
    timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->fn();
      self->wait();
    });
  }
  boost::asio::steady_timer timer;
  std::chrono::microseconds every;
  std::function<void()> fn;
};

PeriodicTask::PeriodicTask(boost::asio::io_context& io, std::chrono::microseconds every, std::function<void()> fn)
    : impl_(std::make_shared<Impl>(io, every, std::move(fn))) {}

PeriodicTask::~PeriodicTask() { impl_->timer.cancel(); }

void PeriodicTask::start(bool run_now) {
  if (impl_->every.count() == 0) return;
  if (run_now) impl_->fn();
  impl_->wait();
}

}  // namespace zeq
