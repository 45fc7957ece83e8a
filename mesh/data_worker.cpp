#include "mesh/data_worker.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <string>

#include <spdlog/spdlog.h>

#include "protocol/icmp_too_big.hpp"
#include "protocol/relay_messages.hpp"
#include "protocol/wire.hpp"

namespace zeq {

WorkerBuffer::WorkerBuffer(size_t size) : size_(size) {
  if (size == 0) return;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  (void)::madvise(p, size, MADV_NOHUGEPAGE);  // a huge page would make all of it resident at once
  bytes_ = static_cast<uint8_t*>(p);
}

WorkerBuffer::~WorkerBuffer() {
  if (bytes_) ::munmap(bytes_, size_);
}

namespace {
// Receive buffers are at least this long, longer than any valid message, so
// an oversized datagram arrives truncated (MSG_TRUNC) and is dropped as such.
constexpr size_t RECEIVE_BUFFER_MIN = 2048;
constexpr size_t RELAY_RECEIVE_BUFFER = 9216;
// A UDP GRO buffer holds up to 64 KB of datagrams (and is one byte longer,
// so that anything longer shows as truncated).
constexpr size_t GRO_RECEIVE_BUFFER = 65536;
// The most datagrams the kernel puts in one GRO buffer (UDP_GRO_CNT_MAX).
constexpr int GRO_MAX_DATAGRAMS = 64;
// After a poll() failure other than EINTR (out of memory), wait this long
// before trying again rather than spinning.
constexpr auto POLL_FAILURE_BACKOFF = std::chrono::milliseconds(10);
}  // namespace

Result<std::unique_ptr<DataWorker>> DataWorker::create(int id, DataPlane& plane, int tun_fd, UdpSocket socket,
                                                       bool tun_vnet) {
  int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0)
    return Status::error("data worker " + std::to_string(id) + ": eventfd: " + std::strerror(errno) +
                         "; raise the open-file limit (LimitNOFILE=) or use fewer workers");
  return std::unique_ptr<DataWorker>(new DataWorker(id, plane, tun_fd, std::move(socket), wake_fd, tun_vnet));
}

DataWorker::DataWorker(int id, DataPlane& plane, int tun_fd, UdpSocket socket, int wake_fd, bool tun_vnet)
    : id_(id), plane_(plane), counters_(plane.counters[size_t(id)]), tun_fd_(tun_fd), socket_(std::move(socket)),
      wake_fd_(wake_fd), tun_vnet_(tun_vnet), udp_gro_(socket_.gro()), udp_gso_(socket_.gso()),
      too_big_budget_(TOO_BIG_RATE, TOO_BIG_BURST, 0), too_big_buf_(VNET_HDR_LEN + ICMP_TOO_BIG_ROOM),
      // Room for a relay header, then the zeqvpn header, in front of a full
      // TUN packet padded to the MTU (padding never goes past it).
      send_slot_size_(RELAY_OVERHEAD + wire::DATA_OVERHEAD + size_t(plane.mtu)),
      send_buffers_(send_slot_size_ * SEND_SLOTS),
      tun_read_(tun_vnet ? VNET_HDR_LEN + 65535 : 0),
      recv_slots_(udp_gro_ ? GRO_SLOTS : BATCH),
      // A relay carries its clients' messages, whatever their MTU (up to
      // jumbo frames), not its own.
      recv_size_(udp_gro_ ? GRO_RECEIVE_BUFFER
                          : std::max<size_t>(send_slot_size_,
                                             plane.relay_role ? RELAY_RECEIVE_BUFFER : RECEIVE_BUFFER_MIN)),
      recv_buffers_(recv_size_ * size_t(recv_slots_)),
      coalescer_(tun_vnet ? recv_slots_ * (udp_gro_ ? GRO_MAX_DATAGRAMS : 1) : 1) {}

DataWorker::~DataWorker() {
  stop();
  close(wake_fd_);
}

void DataWorker::start() {
  thread_ = std::thread([this] {
    // Named, so `top -H` and /proc tell workers from the control thread
    // (the process's main thread).
    pthread_setname_np(pthread_self(), ("zeq-worker-" + std::to_string(id_)).c_str());
    run();
  });
}

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
    int poll_errno = errno;
    plane_.quiescence.go_online(id_);
    if (n < 0) {
      if (poll_errno != EINTR) {
        spdlog::error("data worker {}: poll failed: {}; retrying", id_, std::strerror(poll_errno));
        std::this_thread::sleep_for(POLL_FAILURE_BACKOFF);
      }
      continue;
    }
    if (fds[2].revents) break;
    // Drain both directions in alternating batches, so neither starves the
    // other, until both are empty; then sleep in poll again.
    for (int round = 0; round < MAX_ROUNDS_PER_WAKE; ++round) {
      int handled = send_batch() + receive_batch();
      plane_.quiescence.checkpoint(id_);
      if (handled == 0 || stopping_.load(std::memory_order_relaxed)) break;
    }
  }
}

}  // namespace zeq
