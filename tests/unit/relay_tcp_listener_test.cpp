// The relay's side of relay over TCP (relay/relay_tcp_listener.hpp) on real
// sockets on loopback, with a UDP socket of the test standing in for the
// relay's data plane: a framed datagram arrives there as one datagram from
// the connection's own loopback address, and what is sent back to that
// address comes out framed on the stream. Hostile clients: a bad length
// (0, and above the maximum) closes the connection and is counted; a frame
// left unfinished (slowloris), and a connection that never sends a frame,
// are closed at the deadline; connections over the per-address limit are
// closed at once. The relay goes on serving a good client throughout.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "protocol/stream_framing.hpp"
#include "relay/relay_tcp_listener.hpp"

namespace zeq {
namespace {

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True once the peer closed the connection (read 0 or an error) within ms.
bool closed_within(int fd, int ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  uint8_t buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    if (!readable(fd, 50)) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return false;
}

class RelayTcpListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a = loopback(0);
    ASSERT_EQ(::bind(node_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    RelayTcpListenerSettings s;
    s.listen = *parse_udp_endpoint("127.0.0.1:1");
    s.listen.sa.sin6_port = 0;  // any free port (parse_udp_endpoint refuses 0)
    s.node_port = port_of(node_);
    s.connections_per_address = 3;
    s.frame_deadline_us = 300'000;
    s.idle_us = 2'000'000;
    auto l = RelayTcpListener::open(s);
    ASSERT_TRUE(l) << l.message();
    listener_ = std::move(l.value());
    port_ = listener_->local_port();
    listener_->start();
  }
  void TearDown() override {
    listener_.reset();
    ::close(node_);
  }

  // A datagram the "node" received, and from where.
  Bytes node_receive(sockaddr_in* from, int ms = 2000) {
    if (!readable(node_, ms)) return {};
    uint8_t buf[65536];
    socklen_t len = sizeof *from;
    ssize_t n = ::recvfrom(node_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(from), &len);
    return n > 0 ? Bytes(buf, buf + n) : Bytes{};
  }

  // A good client's round trip: one frame in, one datagram back out.
  void round_trip(int fd, uint8_t tag) {
    Bytes frame;
    ASSERT_TRUE(append_frame(frame, Bytes{0x04, tag, tag}));
    ASSERT_EQ(::send(fd, frame.data(), frame.size(), 0), ssize_t(frame.size()));
    sockaddr_in from{};
    EXPECT_EQ(node_receive(&from), (Bytes{0x04, tag, tag}));
    EXPECT_EQ(ntohl(from.sin_addr.s_addr) >> 24, 127u);  // 127/8, by the client's address
    const uint8_t reply[] = {0x10, tag};
    ASSERT_EQ(::sendto(node_, reply, sizeof reply, 0, reinterpret_cast<sockaddr*>(&from), sizeof from), 2);
    ASSERT_TRUE(readable(fd, 2000));
    uint8_t got[16];
    ssize_t n = ::recv(fd, got, sizeof got, 0);
    ASSERT_EQ(n, 4);
    EXPECT_EQ(Bytes(got, got + 4), (Bytes{0x00, 0x02, 0x10, tag}));
  }

  int node_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<RelayTcpListener> listener_;
};

TEST_F(RelayTcpListenerTest, FramesBecomeDatagramsAndBack) {
  Fd c(connect_to(port_));
  ASSERT_GE(c.fd, 0);
  round_trip(c.fd, 1);
  // Many frames in one write, and one frame over many writes.
  Bytes frames;
  for (uint8_t i = 0; i < 50; ++i) ASSERT_TRUE(append_frame(frames, Bytes(100 + i, i)));
  ASSERT_EQ(::send(c.fd, frames.data(), frames.size(), 0), ssize_t(frames.size()));
  for (uint8_t i = 0; i < 50; ++i) {
    sockaddr_in from{};
    EXPECT_EQ(node_receive(&from), Bytes(100 + i, i));
  }
  Bytes one;
  ASSERT_TRUE(append_frame(one, Bytes(3000, 7)));
  for (size_t at = 0; at < one.size(); at += 1000) {
    ASSERT_GT(::send(c.fd, one.data() + at, std::min<size_t>(1000, one.size() - at), 0), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sockaddr_in from{};
  EXPECT_EQ(node_receive(&from), Bytes(3000, 7));
  EXPECT_EQ(listener_->counters().frames_in.load(), 52u);
  EXPECT_EQ(listener_->counters().frames_out.load(), 1u);
}

TEST_F(RelayTcpListenerTest, BadLengthsCloseAndAreCounted) {
  Fd good(connect_to(port_));
  round_trip(good.fd, 1);
  for (Bytes bad : {Bytes{0x00, 0x00, 0x04}, Bytes{0xff, 0xff}, Bytes{0xff, 0xd0, 1, 2, 3}}) {
    Fd c(connect_to(port_));
    ASSERT_GE(c.fd, 0);
    ASSERT_EQ(::send(c.fd, bad.data(), bad.size(), 0), ssize_t(bad.size()));
    EXPECT_TRUE(closed_within(c.fd, 2000));
  }
  EXPECT_EQ(listener_->counters().bad_frames.load(), 3u);
  sockaddr_in from{};
  EXPECT_TRUE(node_receive(&from, 100).empty());  // nothing of them reached the node
  round_trip(good.fd, 2);
}

TEST_F(RelayTcpListenerTest, SlowlorisAndSilentConnectionsAreClosed) {
  Fd good(connect_to(port_));
  round_trip(good.fd, 1);
  Fd slow(connect_to(port_));
  const uint8_t part[] = {0x00, 0x10, 1, 2};  // 16 bytes announced, 2 sent
  ASSERT_EQ(::send(slow.fd, part, sizeof part, 0), 4);
  Fd silent(connect_to(port_));
  EXPECT_TRUE(closed_within(slow.fd, 3000));
  EXPECT_TRUE(closed_within(silent.fd, 3000));
  EXPECT_GE(listener_->counters().timeouts.load(), 2u);
  round_trip(good.fd, 2);  // kept: it sent whole frames
}

TEST_F(RelayTcpListenerTest, ConnectionsOverThePerAddressLimitAreClosed) {
  Fd a(connect_to(port_)), b(connect_to(port_)), c(connect_to(port_));
  round_trip(a.fd, 1);
  round_trip(b.fd, 2);
  round_trip(c.fd, 3);
  Fd d(connect_to(port_));
  EXPECT_TRUE(closed_within(d.fd, 2000));
  EXPECT_EQ(listener_->counters().refused.load(), 1u);
  round_trip(a.fd, 4);
  // A closed connection frees its place.
  ::close(c.fd);
  c.fd = -1;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Fd e(connect_to(port_));
  round_trip(e.fd, 5);
}

}  // namespace
}  // namespace zeq
