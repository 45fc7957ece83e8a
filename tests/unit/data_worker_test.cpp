// The data plane driven without a daemon: two WorkerNodes (mesh_test_node.hpp)
// on loopback UDP, their TUNs socketpairs, handshaking for real. Covers what
// a worker decides per packet: inbound allowed_ips, replay, roaming, key
// confirmation (and that the reply to a new session's first packet goes out
// under that session), and a failed seal.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh_test_node.hpp"
#include "protocol/ip_packet.hpp"

namespace zeq {
namespace {

using test::fresh_identity;
using test::peer_settings_for;
using test::WorkerNode;

constexpr char A_ADDR[] = "10.200.0.1", B_ADDR[] = "10.200.0.2", C_ADDR[] = "10.200.0.3";

// An IPv4 UDP packet (checksums are not checked on this path).
Bytes ipv4_packet(const char* src, const char* dst, size_t payload_len, uint8_t fill = 0x5a) {
  Bytes p(IPV4_HEADER_MIN + 8 + payload_len, fill);
  p[0] = 0x45;
  p[1] = 0;
  p[2] = uint8_t(p.size() >> 8);
  p[3] = uint8_t(p.size());
  p[8] = 64;
  p[9] = 17;  // UDP
  inet_pton(AF_INET, src, p.data() + IPV4_SOURCE_OFFSET);
  inet_pton(AF_INET, dst, p.data() + IPV4_DESTINATION_OFFSET);
  return p;
}

// A UDP socket on loopback that sits between two nodes: it receives what
// one sends and forwards, replays or alters it, from its own address.
class Tap {
 public:
  Tap() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  }
  ~Tap() { close(fd_); }
  UdpEndpoint endpoint() const {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    return *parse_udp_endpoint("127.0.0.1:" + std::to_string(ntohs(sa.sin_port)));
  }
  // The next datagram, waiting at most timeout_ms.
  std::optional<Bytes> receive(int timeout_ms = 1000) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    Bytes buf(65536);
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) return std::nullopt;
    buf.resize(size_t(n));
    return buf;
  }
  void send_to(const UdpEndpoint& to, const Bytes& datagram) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = to.sa.sin6_port;
    std::memcpy(&sa.sin_addr, to.sa.sin6_addr.s6_addr + 12, 4);  // v4-mapped
    EXPECT_EQ(sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa),
              ssize_t(datagram.size()));
  }

 private:
  int fd_ = -1;
};

class DataWorkerTest : public ::testing::Test {
 protected:
  // A calls; B answers. B also knows C, who never shows up.
  void SetUp() override {
    b_ = std::make_unique<WorkerNode>(b_id_, std::vector<PeerSettings>{peer_settings_for(a_id_, nullptr, "10.200.0.1/32"),
                                                                    peer_settings_for(c_id_, nullptr, "10.200.0.3/32")},
                                      secret_);
    a_ = make_a();
  }
  std::unique_ptr<WorkerNode> make_a() {
    std::string b_at = b_->endpoint().to_string();
    return std::make_unique<WorkerNode>(a_id_, std::vector<PeerSettings>{peer_settings_for(b_id_, b_at.c_str(), "10.200.0.2/32")},
                                        secret_);
  }
  // A initiates and both sides end with a confirmed session.
  void handshake(WorkerNode& a, WorkerNode& b) {
    a.sessions->start_all();
    ASSERT_GT(b.receive(), 0);
    b.pump();  // B answers
    ASSERT_GT(a.receive(), 0);
    a.pump();  // A: session up, confirming keepalive sent
    ASSERT_GT(b.receive(), 0);
    b.pump();  // B: confirmed
    ASSERT_NE(a.peer().current.load(), nullptr);
    ASSERT_NE(b.peer().current.load(), nullptr);
  }

  LocalIdentity a_id_ = fresh_identity(), b_id_ = fresh_identity(), c_id_ = fresh_identity();
  Bytes secret_ = Bytes(32, 0x42);
  std::unique_ptr<WorkerNode> b_, a_;
};

TEST_F(DataWorkerTest, CarriesPacketsBothWaysTrimmedToTheirLength) {
  handshake(*a_, *b_);
  Bytes out = ipv4_packet(A_ADDR, B_ADDR, 37);  // padded on the wire, trimmed on delivery
  ASSERT_EQ(a_->send_ip(out), 1);
  ASSERT_EQ(b_->receive(), 1);
  EXPECT_EQ(b_->delivered(), out);
  Bytes back = ipv4_packet(B_ADDR, A_ADDR, 500);
  ASSERT_EQ(b_->send_ip(back), 1);
  ASSERT_EQ(a_->receive(), 1);
  EXPECT_EQ(a_->delivered(), back);
}

// A peer that restarted (fresh state, same key) handshakes and sends at once.
// B answers from its TUN before its control thread ran: the reply must go
// out under the new session, the only one the peer has.
TEST_F(DataWorkerTest, ReplyToANewSessionsFirstPacketUsesThatSession) {
  handshake(*a_, *b_);
  Keypair* old_session = b_->peer().current.load();
  a_.reset();
  auto a2 = make_a();
  a2->sessions->start_all();
  ASSERT_GT(b_->receive(), 0);
  b_->pump();  // B answers; its old session is still current
  EXPECT_EQ(b_->peer().current.load(), old_session);
  ASSERT_GT(a2->receive(), 0);
  a2->pump();  // A2: new session, keepalive sent
  Bytes echo = ipv4_packet(A_ADDR, B_ADDR, 56);
  ASSERT_EQ(a2->send_ip(echo), 1);
  // B's worker handles the keepalive and the packet; no pump in between.
  std::optional<Bytes> got;
  for (int handled = 0, tries = 0; !got && handled < 2 && tries < 4; ++tries) {
    handled += b_->receive();
    got = b_->delivered();
  }
  EXPECT_EQ(got, echo);
  EXPECT_NE(b_->peer().current.load(), old_session);
  Bytes reply = ipv4_packet(B_ADDR, A_ADDR, 56);
  ASSERT_EQ(b_->send_ip(reply), 1);
  ASSERT_EQ(a2->receive(), 1);
  EXPECT_EQ(a2->drops(Drop::kUnknownIndex), 0u);
  EXPECT_EQ(a2->delivered(), reply);
  b_->pump();  // the control thread catches up with the ownership
  EXPECT_EQ(b_->peer().current_owned.get(), b_->peer().current.load());
}

// A rekey's new session is confirmed by B's worker; before B's control
// thread has caught up, A starts yet another handshake. The confirmed
// session must stay B's current one (it is A's current), not be thrown away
// with the `next` it still is in B's books.
TEST_F(DataWorkerTest, ConfirmedSessionSurvivesTheNextInitiation) {
  handshake(*a_, *b_);
  ASSERT_TRUE(a_->sessions->rekey_now(a_->peer()));
  ASSERT_GT(b_->receive(), 0);
  b_->pump();  // B answers the rekey
  ASSERT_GT(a_->receive(), 0);
  a_->pump();  // A: new current, confirming keepalive sent
  Keypair* a_current = a_->peer().current.load();
  ASSERT_GT(b_->receive(), 0);  // B's worker confirms; no pump
  ASSERT_TRUE(a_->sessions->rekey_now(a_->peer()));
  ASSERT_GT(b_->receive(), 0);
  b_->pump();  // the second initiation, then the attention request
  Keypair* b_current = b_->peer().current.load();
  ASSERT_NE(b_current, nullptr);
  EXPECT_EQ(b_current, b_->peer().current_owned.get());
  EXPECT_EQ(b_current->remote_index, a_current->local_index);
}

TEST_F(DataWorkerTest, DropsInnerSourcesOutsideTheSendersAllowedIps) {
  handshake(*a_, *b_);
  ASSERT_EQ(a_->send_ip(ipv4_packet(C_ADDR, B_ADDR, 20)), 1);  // C's address, from A
  ASSERT_EQ(a_->send_ip(ipv4_packet("10.9.9.9", B_ADDR, 20)), 1);  // nobody's
  for (int got = 0; got < 2;) {
    int n = b_->receive();
    ASSERT_GT(n, 0);
    got += n;
  }
  EXPECT_EQ(b_->drops(Drop::kAllowedIps), 2u);
  EXPECT_FALSE(b_->delivered());
  Bytes good = ipv4_packet(A_ADDR, B_ADDR, 20);  // the control: A's own address passes
  ASSERT_EQ(a_->send_ip(good), 1);
  ASSERT_EQ(b_->receive(), 1);
  EXPECT_EQ(b_->delivered(), good);
}

TEST_F(DataWorkerTest, ReplayedDatagramIsDeliveredOnce) {
  handshake(*a_, *b_);
  Tap tap;
  a_->peer().endpoint.store(tap.endpoint());
  Bytes pkt = ipv4_packet(A_ADDR, B_ADDR, 20);
  ASSERT_EQ(a_->send_ip(pkt), 1);
  auto datagram = tap.receive();
  ASSERT_TRUE(datagram);
  tap.send_to(b_->endpoint(), *datagram);
  ASSERT_EQ(b_->receive(), 1);
  EXPECT_EQ(b_->delivered(), pkt);
  tap.send_to(b_->endpoint(), *datagram);
  ASSERT_EQ(b_->receive(), 1);
  EXPECT_EQ(b_->drops(Drop::kReplay), 1u);
  EXPECT_FALSE(b_->delivered());
}

TEST_F(DataWorkerTest, EndpointMovesOnlyOnAnAuthenticatedPacket) {
  handshake(*a_, *b_);
  const UdpEndpoint a_at = b_->peer().endpoint.load();
  Tap first, second;
  a_->peer().endpoint.store(first.endpoint());
  ASSERT_EQ(a_->send_ip(ipv4_packet(A_ADDR, B_ADDR, 20)), 1);
  ASSERT_EQ(a_->send_ip(ipv4_packet(A_ADDR, B_ADDR, 21)), 1);
  auto one = first.receive(), two = first.receive();
  ASSERT_TRUE(one && two);

  (*two)[two->size() - 1] ^= 1;  // forged: the tag no longer matches
  second.send_to(b_->endpoint(), *two);
  ASSERT_EQ(b_->receive(), 1);
  EXPECT_EQ(b_->drops(Drop::kBadTag), 1u);
  EXPECT_EQ(b_->peer().endpoint.load(), a_at);  // an unauthenticated packet moves nothing

  first.send_to(b_->endpoint(), *one);
  ASSERT_EQ(b_->receive(), 1);
  EXPECT_EQ(b_->peer().endpoint.load(), first.endpoint());  // roamed
  // B's next packet for A goes to the new address.
  ASSERT_EQ(b_->send_ip(ipv4_packet(B_ADDR, A_ADDR, 20)), 1);
  EXPECT_TRUE(first.receive());
}

TEST_F(DataWorkerTest, FailedSealSendsNothingAndKeepsTheCounter) {
  handshake(*a_, *b_);
  Tap tap;
  a_->peer().endpoint.store(tap.endpoint());
  ASSERT_EQ(a_->send_ip(ipv4_packet(A_ADDR, B_ADDR, 20)), 1);
  ASSERT_TRUE(tap.receive());  // the control: what A seals reaches the tap
  Keypair* kp = a_->peer().current.load();
  const uint64_t next = kp->next_counter();
  kp->return_counter(next);  // peeked
  kp->break_sealing_for_tests();

  EXPECT_EQ(a_->send_ip(ipv4_packet(A_ADDR, B_ADDR, 20)), 1);  // read from the TUN, then dropped
  EXPECT_EQ(a_->drops(Drop::kSealFailed), 1u);
  EXPECT_FALSE(a_->sessions->send_plaintext(a_->peer(), a_->clock.mono_us(), {}));  // the control thread's keepalive
  EXPECT_EQ(a_->drops(Drop::kSealFailed), 2u);
  EXPECT_FALSE(tap.receive(200));  // nothing reached the wire
  EXPECT_EQ(kp->next_counter(), next);  // and no counter was burnt
}

}  // namespace
}  // namespace zeq
