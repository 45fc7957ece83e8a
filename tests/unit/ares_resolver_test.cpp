// The c-ares resolver on an Asio loop, against a tiny DNS server the test
// runs on loopback (no network, no root): A and AAAA answers with the port
// set, NXDOMAIN and an unreachable server as one-line errors naming the
// servers asked, answers delivered later on the loop (never inside
// resolve()), the hosts file read first, and nothing delivered after the
// resolver is gone.
#include <gtest/gtest.h>

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "mesh/ares_resolver.hpp"

namespace zeq {
namespace {

// Answers A and AAAA questions for one name from a UDP socket on
// 127.0.0.1; other names get NXDOMAIN. Runs in its own thread.
class TinyDnsServer {
 public:
  TinyDnsServer(std::string name, std::optional<std::array<uint8_t, 4>> a, std::optional<std::array<uint8_t, 16>> aaaa)
      : name_(std::move(name)), a_(a), aaaa_(aaaa) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TinyDnsServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int queries() const { return queries_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      uint8_t q[512];
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 17) continue;
      ++queries_;
      // The question: labels from byte 12, then type and class.
      std::string qname;
      size_t at = 12;
      while (at < size_t(n) && q[at] != 0) {
        size_t len = q[at];
        if (!qname.empty()) qname += '.';
        qname.append(reinterpret_cast<const char*>(q + at + 1), len);
        at += len + 1;
      }
      size_t question_end = at + 5;
      if (question_end > size_t(n)) continue;
      uint16_t qtype = uint16_t(q[at + 1] << 8 | q[at + 2]);
      std::vector<uint8_t> r(q, q + question_end);
      r[2] = 0x81;  // response, recursion desired
      r[3] = 0x80;  // recursion available, no error
      r[4] = 0, r[5] = 1;                         // one question
      r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;  // no answers yet
      if (qname != name_) {
        r[3] |= 3;  // NXDOMAIN
      } else if (qtype == 1 && a_) {
        add_answer(r, 1, a_->data(), 4);
      } else if (qtype == 28 && aaaa_) {
        add_answer(r, 28, aaaa_->data(), 16);
      }
      ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
    }
  }
  static void add_answer(std::vector<uint8_t>& r, uint16_t type, const uint8_t* data, size_t len) {
    r[7] = 1;
    const uint8_t rr[] = {0xc0, 0x0c, uint8_t(type >> 8), uint8_t(type), 0, 1, 0, 0, 0, 60, 0, uint8_t(len)};
    r.insert(r.end(), rr, rr + sizeof rr);
    r.insert(r.end(), data, data + len);
  }

  std::string name_;
  std::optional<std::array<uint8_t, 4>> a_;
  std::optional<std::array<uint8_t, 16>> aaaa_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

// Runs the loop until `done` or 10 s.
void run_until(boost::asio::io_context& io, const bool& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  io.restart();
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(20));
    io.restart();
  }
}

std::vector<IpPrefix> loopback() { return {*parse_ip_prefix("127.0.0.1")}; }

std::string joined(const std::vector<UdpEndpoint>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : " ") + e.to_string();
  return s;
}

TEST(AresResolver, AnswersWithThePortSet) {
  TinyDnsServer server("b.zeq.test", std::array<uint8_t, 4>{198, 18, 0, 2},
                       std::array<uint8_t, 16>{0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  boost::asio::io_context io;
  auto r = AresResolver::create(io, loopback(), 0, server.port());
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ((*r)->servers(), "127.0.0.1");
  bool done = false;
  std::optional<HostResolver::Answer> got;
  (*r)->resolve("b.zeq.test", 51820, [&](HostResolver::Answer a) {
    got = std::move(a);
    done = true;
  });
  EXPECT_FALSE(done);  // later, on the loop
  run_until(io, done);
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got) << got->message();
  const std::string all = joined(got->value());
  EXPECT_NE(all.find("198.18.0.2:51820"), std::string::npos) << all;
  EXPECT_NE(all.find("[fd00:198:18::2]:51820"), std::string::npos) << all;
  EXPECT_EQ(got->value().size(), 2u) << all;
}

TEST(AresResolver, Ipv4OnlyName) {
  TinyDnsServer server("b.zeq.test", std::array<uint8_t, 4>{198, 18, 0, 9}, std::nullopt);
  boost::asio::io_context io;
  auto r = AresResolver::create(io, loopback(), 0, server.port());
  ASSERT_TRUE(r) << r.message();
  bool done = false;
  std::optional<HostResolver::Answer> got;
  (*r)->resolve("b.zeq.test", 7, [&](HostResolver::Answer a) {
    got = std::move(a);
    done = true;
  });
  run_until(io, done);
  ASSERT_TRUE(got && *got) << (got ? got->message() : "no answer");
  EXPECT_EQ(joined(got->value()), "198.18.0.9:7");
}

TEST(AresResolver, NoSuchNameIsAnErrorNamingTheServers) {
  TinyDnsServer server("b.zeq.test", std::array<uint8_t, 4>{198, 18, 0, 2}, std::nullopt);
  boost::asio::io_context io;
  auto r = AresResolver::create(io, loopback(), 0, server.port());
  ASSERT_TRUE(r) << r.message();
  bool done = false;
  std::optional<HostResolver::Answer> got;
  (*r)->resolve("nope.zeq.test", 51820, [&](HostResolver::Answer a) {
    got = std::move(a);
    done = true;
  });
  run_until(io, done);
  ASSERT_TRUE(got);
  ASSERT_FALSE(*got);
  EXPECT_NE(got->message().find("(asked 127.0.0.1)"), std::string::npos) << got->message();
  EXPECT_GE(server.queries(), 1);
}

// Nobody listens on the port: the kernel refuses at once, and so does the
// resolver, well within its timeouts.
TEST(AresResolver, UnreachableServerFailsQuickly) {
  uint16_t closed_port = 0;
  {
    TinyDnsServer gone("x", std::nullopt, std::nullopt);
    closed_port = gone.port();
  }
  boost::asio::io_context io;
  auto r = AresResolver::create(io, loopback(), 0, closed_port);
  ASSERT_TRUE(r) << r.message();
  bool done = false;
  std::optional<HostResolver::Answer> got;
  const auto start = std::chrono::steady_clock::now();
  (*r)->resolve("b.zeq.test", 51820, [&](HostResolver::Answer a) {
    got = std::move(a);
    done = true;
  });
  run_until(io, done);
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(9));
}

TEST(AresResolver, HostsFileFirst) {
  boost::asio::io_context io;
  // The server is never asked: localhost is in the hosts file.
  auto r = AresResolver::create(io, {*parse_ip_prefix("192.0.2.53")}, 0, 9);
  ASSERT_TRUE(r) << r.message();
  bool done = false;
  std::optional<HostResolver::Answer> got;
  (*r)->resolve("localhost", 51820, [&](HostResolver::Answer a) {
    got = std::move(a);
    done = true;
  });
  EXPECT_FALSE(done);  // even a hosts-file answer comes later, on the loop
  run_until(io, done);
  ASSERT_TRUE(got && *got) << (got ? got->message() : "no answer");
  const std::string all = joined(got->value());
  EXPECT_TRUE(all.find("127.0.0.1:51820") != std::string::npos || all.find("[::1]:51820") != std::string::npos) << all;
}

TEST(AresResolver, NothingArrivesAfterTheResolverIsGone) {
  TinyDnsServer server("b.zeq.test", std::array<uint8_t, 4>{198, 18, 0, 2}, std::nullopt);
  boost::asio::io_context io;
  auto r = AresResolver::create(io, loopback(), 0, server.port());
  ASSERT_TRUE(r) << r.message();
  bool called = false;
  (*r)->resolve("b.zeq.test", 51820, [&](HostResolver::Answer) { called = true; });
  (*r)->resolve("localhost", 51820, [&](HostResolver::Answer) { called = true; });  // posted already
  r.value().reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(called);
}

TEST(AresResolver, NoServersIsAClearError) {
  boost::asio::io_context io;
  auto r = AresResolver::create(io, {}, 0x5a51);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("dns.endpoint_resolvers"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace zeq
