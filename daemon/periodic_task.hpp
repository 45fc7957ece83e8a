// A function run every so often on the control thread's event loop (the
// systemd watchdog ping, the tunnel checkpoint). Stops when destroyed.
// Boost.Asio stays in the .cpp file.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace zeq {

class PeriodicTask {
 public:
  PeriodicTask(boost::asio::io_context& io, std::chrono::microseconds every, std::function<void()> fn);
  ~PeriodicTask();
  // Runs fn now (if run_now) and then every `every`; a zero interval never runs.
  void start(bool run_now);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace zeq
