// The underlay UDP socket: dual-stack IPv6 (IPv4 peers as v4-mapped), bound
// to the listen port with SO_REUSEPORT so that each worker has its own socket
// and the kernel spreads flows across them.
#pragma once

#include <cstdint>

#include "core/net_address.hpp"
#include "core/result.hpp"

namespace zeq {

class UdpSocket {
 public:
  // Fails with a clear message when another process holds the port.
  // fwmark (non-zero) marks every packet with SO_MARK so the kill switch
  // can let the tunnel's own underlay packets out.
  // offloads: ask for UDP GRO (the kernel hands over runs of datagrams of
  // one flow as one buffer) and check for UDP GSO (one sendmsg carries many
  // datagrams of one size); gro()/gso() say what the kernel took.
  static Result<UdpSocket> open(uint16_t port, uint32_t fwmark = 0, bool offloads = false);
  // Probe: can a socket bind this port without SO_REUSEPORT? Keeps a second
  // daemon from silently sharing the port with the first.
  static Status check_port_free(uint16_t port);

  UdpSocket(UdpSocket&& o) noexcept : fd_(o.fd_), gro_(o.gro_), gso_(o.gso_) { o.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&&) = delete;
  UdpSocket(const UdpSocket&) = delete;
  ~UdpSocket();

  int fd() const { return fd_; }
  bool gro() const { return gro_; }
  bool gso() const { return gso_; }
  // The bound port (what port 0 became).
  uint16_t local_port() const;
  // One datagram, from any thread (the control thread sends handshakes).
  bool send_to(const uint8_t* data, size_t len, const UdpEndpoint& to) const;

 private:
  explicit UdpSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
  bool gro_ = false, gso_ = false;
};

}  // namespace zeq
