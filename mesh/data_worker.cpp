#include "mesh/data_worker.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "protocol/wire.hpp"

namespace zeq {

DataWorker::DataWorker(int id, DataPlane& plane, int tun_fd, UdpSocket socket)
    : id_(id), plane_(plane), counters_(plane.counters[size_t(id)]), tun_fd_(tun_fd), socket_(std::move(socket)),
      // Room for the zeqvpn header in front of a full TUN packet plus padding,
      // and at least a full UDP datagram so oversized input is seen as such.
      buffer_size_(std::max<size_t>(wire::DATA_OVERHEAD + size_t(plane.mtu) + 16, 2048)),
      buffers_(buffer_size_ * kBatch) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

DataWorker::~DataWorker() {
  stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void DataWorker::start() { thread_ = std::thread([this] { run(); }); }

void DataWorker::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  thread_.join();
}

void DataWorker::run() {
  pollfd fds[3] = {{tun_fd_, POLLIN, 0}, {socket_.fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (!stopping_.load(std::memory_order_relaxed)) {
    plane_.quiescence.go_offline(id_);
    int n = poll(fds, 3, -1);
    plane_.quiescence.go_online(id_);
    if (n < 0) continue;  // EINTR
    if (fds[2].revents) break;
    // Drain both directions in alternating batches, so neither starves the
    // other, until both are empty; then sleep in poll again.
    for (int round = 0; round < 64; ++round) {
      int handled = send_batch() + receive_batch();
      plane_.quiescence.checkpoint(id_);
      if (handled == 0 || stopping_.load(std::memory_order_relaxed)) break;
    }
  }
}

}  // namespace zeq
