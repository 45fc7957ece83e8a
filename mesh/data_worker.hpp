// A data-plane worker: one thread owning one TUN queue and one UDP socket.
// It moves packets in batches in both directions (send.cpp: TUN -> UDP,
// receive.cpp: UDP -> TUN) with buffers allocated once at start, and hands
// handshake messages to the control thread.
//
// With offloads (tun/tun_device.hpp, mesh/udp_socket.hpp) one TUN read can
// bring a 64 KB TCP super-packet, split here into MTU-sized packets
// (GsoSegmenter) that leave in one sendmsg per run of equal-sized datagrams
// to one address (UDP GSO, udp_batch.cpp); one recvmmsg slot can hold a run
// of datagrams (UDP GRO), and the TCP segments opened from a batch are joined
// again (TcpCoalescer) into one TUN write per flow. Every offload the kernel
// refuses falls back to one packet per read, slot or datagram.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "mesh/data_plane.hpp"
#include "mesh/udp_socket.hpp"
#include "protocol/gso_segmenter.hpp"
#include "protocol/tcp_coalescer.hpp"

namespace zeq {

// A worker's batch memory: a mapping of its own, so its pages become
// resident only when a packet first lands in them (a worker that never sees
// GRO-sized bursts never pays for its 512 KB of GRO buffers). Not from the
// heap, where blocks under zeqvpnd's 256 KB mmap threshold (the send slots,
// the TUN read buffer) can land on pages start-up already dirtied and
// freed, resident from the outset (30-40 kB per node, measured).
class WorkerBuffer {
 public:
  explicit WorkerBuffer(size_t size);  // throws std::bad_alloc when the kernel refuses
  ~WorkerBuffer();
  WorkerBuffer(const WorkerBuffer&) = delete;
  WorkerBuffer& operator=(const WorkerBuffer&) = delete;
  uint8_t* data() { return bytes_; }
  size_t size() const { return size_; }

 private:
  uint8_t* bytes_ = nullptr;
  size_t size_;
};

class DataWorker {
 public:
  // Packets per recvmmsg/sendmmsg and per TUN read loop.
  static constexpr int BATCH = 64;
  // Packets sealed before they are sent: room for the segments of a few
  // TSO super-packets, so runs for UDP GSO can be long.
  static constexpr int SEND_SLOTS = 128;
  // recvmmsg slots when the socket has UDP GRO: each takes up to 64 KB, so
  // one call takes up to 512 KB, about 1 ms of a 4 Gbit/s stream. 16 slots
  // carried no more (bench/tunnel_bench.sh) and made the receiving node's
  // peak RSS about 0.5 MiB higher (issue 14).
  static constexpr int GRO_SLOTS = 8;
  // What one GSO sendmsg may carry (the kernel's UDP_MAX_SEGMENTS, and the
  // 64 KB an IP datagram can hold).
  static constexpr int MAX_GSO_SEGMENTS = 64;
  static constexpr size_t MAX_GSO_BYTES = 65000;
  static constexpr size_t GSO_NO_LIMIT = 65535;
  // A GSO size limit learnt from a refusal (a path with a smaller MTU) is
  // lifted after this long, so a route that has healed gets GSO back.
  static constexpr int64_t GSO_LIMIT_LIFETIME_US = 60'000'000;
  // Batches each way per wake-up before polling again, so a flood in one
  // direction cannot keep the worker from its quiescent points for long.
  static constexpr int MAX_ROUNDS_PER_WAKE = 64;

  // tun_fd: a non-blocking packet fd (a TUN queue; a datagram socketpair in
  // tests). Fails when the worker's wake-up eventfd cannot be made.
  // tun_vnet: every packet on tun_fd carries a virtio-net header (offloads).
  static Result<std::unique_ptr<DataWorker>> create(int id, DataPlane& plane, int tun_fd, UdpSocket socket,
                                                    bool tun_vnet = false);
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
  DataWorker(int id, DataPlane& plane, int tun_fd, UdpSocket socket, int wake_fd, bool tun_vnet);
  void run();
  // send.cpp: seals the packet in slot `queued` for sending; false when it
  // was dropped (and counted).
  bool prepare_packet(const PeerTable& table, int queued, size_t len, int64_t now, uint64_t zeqond);
  // send.cpp: the TUN read loops, one packet per read or with the
  // virtio-net header (super-packets split into slots).
  int read_plain(const PeerTable& table, int64_t now, uint64_t zeqond);
  int read_offloaded(const PeerTable& table, int64_t now, uint64_t zeqond);
  // udp_batch.cpp: sends n datagrams (iovs[i] to addrs[i]), runs of equal
  // size to one address as one GSO sendmsg where the socket can, skipping
  // any the kernel refuses.
  void send_datagrams(iovec* iovs, sockaddr_in6* addrs, int n);
  void send_each(iovec* iovs, sockaddr_in6* addrs, int n);
  // receive.cpp: one datagram of a received batch.
  void receive_datagram(const PeerTable& table, uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now);
  // receive.cpp: writes what the coalescer holds to the TUN.
  void flush_tun_writes();
  // Per-peer traffic counters, added up over a run of one peer's packets
  // and written once: a batch touches each peer's shared counters once,
  // not per packet (flushed before the batch ends, while the peer is
  // certainly alive).
  struct Tally {
    Peer* peer = nullptr;
    uint64_t bytes = 0, packets = 0;
  };
  void tally_tx(Peer& peer, size_t bytes, int64_t now) {
    if (tx_tally_.peer != &peer) flush_tx_tally(now), tx_tally_.peer = &peer;
    tx_tally_.bytes += bytes, ++tx_tally_.packets;
  }
  void tally_rx(Peer& peer, size_t bytes, int64_t now) {
    if (rx_tally_.peer != &peer) flush_rx_tally(now), rx_tally_.peer = &peer;
    rx_tally_.bytes += bytes, ++rx_tally_.packets;
  }
  void flush_tx_tally(int64_t now);
  // send.cpp: answers a packet longer than its peer's path MTU that may not
  // be fragmented with ICMP too big, written back to the TUN (within a
  // rate, like a router's), so the sender's PMTU discovery works.
  void answer_too_big(const uint8_t* pkt, size_t len, size_t path_mtu, int64_t now);
  void flush_rx_tally(int64_t now);
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
  void flush_out();

  const int id_;
  DataPlane& plane_;
  WorkerCounters& counters_;
  const int tun_fd_;
  UdpSocket socket_;
  const int wake_fd_;
  const bool tun_vnet_;
  const bool udp_gro_;
  bool udp_gso_;                        // turned off if the kernel refuses GSO sends (EIO)
  size_t gso_max_datagram_ = GSO_NO_LIMIT;  // lowered to below a size the route refused in GSO
  int64_t gso_limit_until_us_ = 0;          // when a lowered limit is lifted again (steady clock)
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  Tally tx_tally_, rx_tally_;
  // ICMP too-big answers per second and burst (one token each).
  static constexpr uint64_t TOO_BIG_RATE = 200, TOO_BIG_BURST = 50;
  TokenBucket too_big_budget_;
  std::vector<uint8_t> too_big_buf_;

  // Per-batch buffers, allocated once.
  // Send: sealed datagrams in slots, each with room in front for the zeqvpn
  // and relay headers; with offloads, the TUN read lands in tun_read_ first.
  size_t send_slot_size_;
  WorkerBuffer send_buffers_;
  std::array<iovec, SEND_SLOTS> send_iovs_{};
  std::array<sockaddr_in6, SEND_SLOTS> send_addrs_{};
  WorkerBuffer tun_read_;
  GsoSegmenter segmenter_;
  // Receive: recv_slots_ buffers of recv_size_ bytes (64 KB each with GRO).
  int recv_slots_;
  size_t recv_size_;
  WorkerBuffer recv_buffers_;
  std::array<mmsghdr, BATCH> msgs_{};
  std::array<iovec, BATCH> iovs_{};
  std::array<sockaddr_in6, BATCH> addrs_{};
  std::array<std::array<uint8_t, CMSG_SPACE(sizeof(int))>, BATCH> recv_cmsgs_{};
  TcpCoalescer coalescer_;
  // What a relay forwards from a received batch, sent at its end (or when
  // this fills up).
  std::array<iovec, SEND_SLOTS> out_iovs_{};
  std::array<sockaddr_in6, SEND_SLOTS> out_addrs_{};
  int out_queued_ = 0;
  // The sendmmsg messages send_datagrams builds, with their GSO cmsgs.
  std::array<mmsghdr, SEND_SLOTS> gso_msgs_{};
  std::array<std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))>, SEND_SLOTS> gso_cmsgs_{};
  uint8_t* send_slot(int i) { return send_buffers_.data() + size_t(i) * send_slot_size_; }
  uint8_t* recv_buffer(int i) { return recv_buffers_.data() + size_t(i) * recv_size_; }
};

}  // namespace zeq
