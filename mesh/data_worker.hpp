// A data-plane worker: one thread owning one TUN queue and one UDP socket.
// It moves packets in batches in both directions (send.cpp: TUN -> UDP,
// receive.cpp: UDP -> TUN) with buffers allocated once at start, and hands
// handshake messages to the control thread.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "mesh/data_plane.hpp"
#include "mesh/udp_socket.hpp"

namespace zeq {

class DataWorker {
 public:
  static constexpr int kBatch = 64;

  DataWorker(int id, DataPlane& plane, int tun_fd, UdpSocket socket);
  ~DataWorker();

  void start();
  // Asks the thread to stop and joins it.
  void stop();
  const UdpSocket& socket() const { return socket_; }

 private:
  void run();
  // Each returns how many packets it handled (0 when the source is empty).
  int send_batch();     // send.cpp
  int receive_batch();  // receive.cpp
  void receive_data(uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now_us);

  const int id_;
  DataPlane& plane_;
  WorkerCounters& counters_;
  const int tun_fd_;
  UdpSocket socket_;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  // Per-batch buffers, allocated once.
  size_t buffer_size_;
  std::vector<uint8_t> buffers_;
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<iovec, kBatch> iovs_{};
  std::array<sockaddr_in6, kBatch> addrs_{};
  uint8_t* buffer(int i) { return buffers_.data() + size_t(i) * buffer_size_; }
};

}  // namespace zeq
