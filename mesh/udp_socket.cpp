#include "mesh/udp_socket.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace zeq {

namespace {

constexpr int SOCKET_BUFFER_BYTES = 8 << 20;

int make_socket(uint16_t port, bool reuseport, int& err) {
  int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  int zero = 0, one = 1;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  sa.sin6_addr = in6addr_any;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Status UdpSocket::check_port_free(uint16_t port) {
  int err = 0;
  int fd = make_socket(port, false, err);
  if (fd < 0) {
    if (err == EADDRINUSE)
      return Status::error("UDP port " + std::to_string(port) +
                           " (interface.listen_port) is already in use; stop the other process or choose another listen_port");
    return Status::error("cannot bind UDP port " + std::to_string(port) + ": " + std::strerror(err));
  }
  ::close(fd);
  return Status::ok();
}

Result<UdpSocket> UdpSocket::open(uint16_t port, uint32_t fwmark, bool offloads) {
  int err = 0;
  int fd = make_socket(port, true, err);
  if (fd < 0) return Status::error("cannot bind UDP port " + std::to_string(port) + ": " + std::strerror(err));
  if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof fwmark) != 0) {
    err = errno;
    ::close(fd);
    return Status::error("setting socket mark " + std::to_string(fwmark) + " (fwmark) on UDP port " + std::to_string(port) +
                         ": " + std::strerror(err) + "; zeqvpnd needs CAP_NET_ADMIN");
  }
  // Large buffers absorb bursts; the *FORCE variants pass rmem_max as root.
  int size = SOCKET_BUFFER_BYTES;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  UdpSocket sock(fd);
  if (offloads) {
    int one = 1, segment = 0;
    socklen_t len = sizeof segment;
    sock.gro_ = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
    // Kernels without UDP GSO do not know the option at all.
    sock.gso_ = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &segment, &len) == 0;
  }
  return sock;
}

uint16_t UdpSocket::local_port() const {
  sockaddr_in6 sa{};
  socklen_t len = sizeof sa;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return ntohs(sa.sin6_port);
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool UdpSocket::send_to(const uint8_t* data, size_t len, const UdpEndpoint& to) const {
  return ::sendto(fd_, data, len, 0, reinterpret_cast<const sockaddr*>(&to.sa), sizeof to.sa) == ssize_t(len);
}

}  // namespace zeq
