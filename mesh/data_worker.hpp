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

#include "core/result.hpp"
#include "mesh/data_plane.hpp"
#include "mesh/udp_socket.hpp"

namespace zeq {

class DataWorker {
 public:
  // Packets per recvmmsg/sendmmsg and per TUN read loop.
  static constexpr int BATCH = 64;
  // Batches each way per wake-up before polling again, so a flood in one
  // direction cannot keep the worker from its quiescent points for long.
  static constexpr int MAX_ROUNDS_PER_WAKE = 64;

  // tun_fd: a non-blocking packet fd (a TUN queue; a datagram socketpair in
  // tests). Fails when the worker's wake-up eventfd cannot be made.
  static Result<std::unique_ptr<DataWorker>> create(int id, DataPlane& plane, int tun_fd, UdpSocket socket);
  ~DataWorker();

  void start();
  // Asks the thread to stop and joins it.
  void stop();
  const UdpSocket& socket() const { return socket_; }

  // One batch each way, on the caller's thread; the worker's thread runs
  // these in a loop. Each returns how many packets it handled (0 when its
  // source was empty). Public so that tests can drive a worker without
  // threads.
  int send_batch();     // send.cpp
  int receive_batch();  // receive.cpp

 private:
  DataWorker(int id, DataPlane& plane, int tun_fd, UdpSocket socket, int wake_fd);
  void run();
  // send.cpp: seals the packet in slot `queued` for sending; false when it
  // was dropped (and counted).
  bool prepare_packet(const PeerTable& table, int queued, size_t len, int64_t now, uint64_t zeqond);
  // Sends n prepared datagrams (skipping any the kernel refuses).
  void flush(mmsghdr* msgs, int n);
  // send.cpp: wraps the sealed message at buf + RELAY_OVERHEAD for the
  // route's relay (RelayData, in place in front of it); false when dropped.
  bool wrap_for_relay(RelayRoute& route, uint8_t* buf, size_t msg_len, int64_t now, UdpEndpoint& to);
  // receive.cpp. `via`: the relayed route the message arrived by (null:
  // straight from `from`).
  void receive_data(const PeerTable& table, uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now_us,
                    RelayRoute* via = nullptr);
  void receive_handshake(uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now_us, RelayRoute* via = nullptr);
  void receive_cookie_reply(const uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now_us,
                            RelayRoute* via = nullptr);
  void deliver_ip(const PeerTable& table, Peer& peer, uint8_t* plain, size_t plain_len, int64_t now_us);
  void deliver_other(Peer& peer, const uint8_t* plain, size_t plain_len, size_t msg_len);
  // What every authenticated message does to its sender: counters, key
  // confirmation (receive.cpp); and where it came from (roaming).
  void note_authenticated(Peer& peer, Keypair& kp, size_t len, int64_t now_us);
  void note_arrival(Peer& peer, const UdpEndpoint& from, RelayRoute* via, size_t len);
  // relay_receive.cpp: a RelayData message; a relay forwards it, a client
  // opens what it carries.
  void receive_relayed(const PeerTable& table, uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now_us);
  void forward_relayed(Peer& sender, uint32_t channel, uint8_t* msg, size_t len, int64_t now_us);
  void queue_out(uint8_t* msg, size_t len, const UdpEndpoint& to);
  // One datagram of a sendmmsg batch: len bytes at data, to `to`.
  static void set_datagram(mmsghdr& m, iovec& iov, sockaddr_in6& addr, uint8_t* data, size_t len, const UdpEndpoint& to) {
    addr = to.sa;
    iov = {data, len};
    m.msg_hdr = {};
    m.msg_hdr.msg_name = &addr;
    m.msg_hdr.msg_namelen = sizeof(sockaddr_in6);
    m.msg_hdr.msg_iov = &iov;
    m.msg_hdr.msg_iovlen = 1;
  }

  const int id_;
  DataPlane& plane_;
  WorkerCounters& counters_;
  const int tun_fd_;
  UdpSocket socket_;
  const int wake_fd_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  // Per-batch buffers, allocated once.
  size_t buffer_size_;
  std::vector<uint8_t> buffers_;
  std::array<mmsghdr, BATCH> msgs_{};
  std::array<iovec, BATCH> iovs_{};
  std::array<sockaddr_in6, BATCH> addrs_{};
  // What a relay forwards from one received batch, sent at its end.
  std::array<mmsghdr, BATCH> out_msgs_{};
  std::array<iovec, BATCH> out_iovs_{};
  std::array<sockaddr_in6, BATCH> out_addrs_{};
  int out_queued_ = 0;
  uint8_t* buffer(int i) { return buffers_.data() + size_t(i) * buffer_size_; }
};

}  // namespace zeq
