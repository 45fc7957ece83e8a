// The metrics endpoint (daemon/metrics_http_server.hpp) over real TCP
// sockets on 127.0.0.1 (and ::1 when the host has it), the server on its own
// io_context thread as zeqvpnd's control thread runs it: what it answers,
// keep-alive, its limits (header size, no body, time, connections), errors
// naming the setting, and the socket-free exchange the fuzz target drives.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>  // before Boost.Asio

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include "daemon/metrics_http_server.hpp"

namespace zeq {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string METRICS = "# HELP zeqvpn_up 1 while zeqvpnd runs.\n# TYPE zeqvpn_up gauge\nzeqvpn_up 1\n";

UdpEndpoint loopback(const std::string& address = "127.0.0.1", uint16_t port = 0) {
  // parse_udp_endpoint refuses port 0 (a configured port never is), so the
  // port is set afterwards.
  const bool v6 = address.find(':') != std::string::npos;
  auto ep = parse_udp_endpoint((v6 ? "[" + address + "]" : address) + ":1");
  EXPECT_TRUE(ep) << address;
  ep->sa.sin6_port = htons(port);
  return *ep;
}

bool has_ipv6_loopback() {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  return ok;
}

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// What arrived on fd within `timeout`, and whether the server closed.
struct Received {
  std::string bytes;
  bool closed = false;
};

Received receive(int fd, std::chrono::milliseconds timeout, size_t enough = SIZE_MAX) {
  Received r;
  const auto deadline = Clock::now() + timeout;
  while (r.bytes.size() < enough) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) break;
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
      r.closed = true;  // EOF, or reset by the server
      break;
    }
    r.bytes.append(buf, size_t(n));
  }
  return r;
}

// Parses one response from the front of `bytes` (removed from it); nullopt
// when it is not all there.
std::optional<HttpResponse> take_response(std::string& bytes) {
  size_t end = bytes.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  HttpResponse r;
  std::string head = bytes.substr(0, end);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return std::nullopt;
  r.status = std::stoi(status_line.substr(9, 3));
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
    pos = next + 2;
  }
  size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
  if (bytes.size() < end + 4 + length) return std::nullopt;
  r.body = bytes.substr(end + 4, length);
  bytes.erase(0, end + 4 + length);
  return r;
}

class MetricsHttp : public ::testing::Test {
 protected:
  void TearDown() override { stop(); }

  // Every scrape renders anew unless a test asks otherwise.
  static MetricsHttpServer::Limits fresh() {
    MetricsHttpServer::Limits limits;
    limits.min_render_interval = 0ms;
    return limits;
  }

  void start(MetricsHttpServer::Limits limits = fresh(), const char* address = "127.0.0.1") {
    auto s = MetricsHttpServer::listen(io_, loopback(address), [this] {
      ++renders_;
      return METRICS;
    }, limits);
    ASSERT_TRUE(s) << s.message();
    server_ = std::move(s.value());
    port_ = ntohs(server_->local_endpoint().sa.sin6_port);
    ASSERT_NE(port_, 0);
    thread_ = std::thread([this] { io_.run(); });
  }
  void stop() {
    if (thread_.joinable()) {
      work_.reset();
      io_.stop();
      thread_.join();
    }
    server_.reset();
  }

  // On the server's thread, as the daemon would.
  template <typename F>
  auto on_server(F f) {
    std::promise<decltype(f())> p;
    boost::asio::post(io_, [&] { p.set_value(f()); });
    return p.get_future().get();
  }
  MetricsHttpCounters counters() { return on_server([this] { return server_->counters(); }); }
  int open_connections() { return on_server([this] { return server_->open_connections(); }); }

  int connect_one(bool v6 = false) {
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    int rc;
    if (v6) {
      sockaddr_in6 sa{};
      sa.sin6_family = AF_INET6;
      sa.sin6_addr = in6addr_loopback;
      sa.sin6_port = htons(port_);
      rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    } else {
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sa.sin_port = htons(port_);
      rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    }
    EXPECT_EQ(rc, 0) << std::strerror(errno);
    fds_.push_back(fd);
    return fd;
  }

  static void send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;  // the server closed; what it answered is still readable
      bytes.remove_prefix(size_t(n));
    }
  }

  // One request on a new connection; the response, or status 0.
  HttpResponse exchange(std::string_view request, bool v6 = false) {
    int fd = connect_one(v6);
    send_all(fd, request);
    std::string bytes;
    for (auto deadline = Clock::now() + 5s; Clock::now() < deadline;) {
      Received r = receive(fd, 20ms);
      bytes += r.bytes;
      if (auto response = take_response(bytes)) return *response;
      if (r.closed) break;
    }
    return {};
  }

  // Waits (at most 2 s) until the server has `n` connections open.
  void wait_open(int n) {
    for (auto deadline = Clock::now() + 2s; Clock::now() < deadline && open_connections() != n;)
      std::this_thread::sleep_for(5ms);
    ASSERT_EQ(open_connections(), n);
  }

  ~MetricsHttp() override {
    for (int fd : fds_) close(fd);
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{io_.get_executor()};
  std::unique_ptr<MetricsHttpServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<int> renders_{0};
  std::vector<int> fds_;
};

const char GET[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\nAccept: text/plain\r\n\r\n";

TEST_F(MetricsHttp, GetMetricsAnswersThePrometheusText) {
  start();
  HttpResponse r = exchange(GET);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.headers["content-length"], std::to_string(METRICS.size()));
  EXPECT_EQ(r.body, METRICS);
  EXPECT_EQ(renders_, 1);
  // Prometheus may add its scrape parameters as a query string.
  EXPECT_EQ(exchange("GET /metrics?module=zeqvpn HTTP/1.1\r\nHost: x\r\n\r\n").status, 200);
  EXPECT_EQ(counters().scrapes, 2u);
}

TEST_F(MetricsHttp, OtherPathsAre404AndOtherMethods405) {
  start();
  HttpResponse r = exchange("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status, 404);
  EXPECT_EQ(exchange("GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n").status, 404);
  EXPECT_EQ(exchange("POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status, 404);
  for (const char* method : {"POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"}) {
    r = exchange(std::string(method) + " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.headers["allow"], "GET") << method;
  }
  EXPECT_EQ(renders_, 0);  // nothing rendered for what is refused
  EXPECT_EQ(counters().refused, 10u);
}

TEST_F(MetricsHttp, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  int fd = connect_one();
  std::string bytes;
  for (int i = 0; i < 3; ++i) {
    send_all(fd, GET);
    std::optional<HttpResponse> r;
    for (auto deadline = Clock::now() + 5s; !r && Clock::now() < deadline;) {
      Received got = receive(fd, 100ms);
      bytes += got.bytes;
      r = take_response(bytes);
      ASSERT_TRUE(r || !got.closed) << "closed after " << i << " responses";
    }
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, METRICS);
  }
  EXPECT_EQ(counters().accepted, 1u);
  // Two requests in one write (pipelined): two answers, in order.
  send_all(fd, std::string("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n") + GET);
  Received got = receive(fd, 1s, 2 * 100);
  bytes += got.bytes;
  for (auto deadline = Clock::now() + 2s; bytes.find("zeqvpn_up 1") == std::string::npos && Clock::now() < deadline;)
    bytes += receive(fd, 100ms).bytes;
  auto first = take_response(bytes), second = take_response(bytes);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 404);
  EXPECT_EQ(second->status, 200);
}

TEST_F(MetricsHttp, ConnectionCloseAndHttp10CloseAfterTheAnswer) {
  start();
  for (const char* request : {"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                              "GET /metrics HTTP/1.0\r\n\r\n"}) {
    int fd = connect_one();
    send_all(fd, request);
    Received r = receive(fd, 3s);
    EXPECT_TRUE(r.closed) << request;
    auto response = take_response(r.bytes);
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, METRICS);
  }
  // HTTP/1.0 with keep-alive asked for stays open.
  int fd = connect_one();
  send_all(fd, "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  Received r = receive(fd, 300ms);
  EXPECT_FALSE(r.closed);
  ASSERT_TRUE(take_response(r.bytes));
}

TEST_F(MetricsHttp, OverLongHeadersAre431) {
  MetricsHttpServer::Limits limits = fresh();
  limits.max_header_bytes = 1024;
  start(limits);
  // Just under the limit passes.
  std::string fits = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(900, 'a') + "\r\n\r\n";
  ASSERT_LT(fits.size(), 1024u);
  EXPECT_EQ(exchange(fits).status, 200);
  // A long header, a long request line, many headers, and a header that
  // never ends: 431 (or closed) each, and never a 200.
  const std::string requests[] = {
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(2000, 'a') + "\r\n\r\n",
      "GET /metrics?" + std::string(5000, 'q') + " HTTP/1.1\r\nHost: x\r\n\r\n",
      [] {
        std::string s = "GET /metrics HTTP/1.1\r\n";
        for (int i = 0; i < 200; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
        return s + "\r\n";
      }(),
      "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(100000, 'b'),
  };
  for (const auto& request : requests) {
    int fd = connect_one();
    send_all(fd, request);
    Received r = receive(fd, 3s);
    EXPECT_TRUE(r.closed);
    if (auto response = take_response(r.bytes)) EXPECT_EQ(response->status, 431) << request.substr(0, 40);
  }
  EXPECT_EQ(renders_, 1);
  EXPECT_EQ(counters().bad_requests, 4u);  // each answered 431 before the close
}

TEST_F(MetricsHttp, DefaultHeaderLimitIs8KiB) {
  start();
  EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(7000, 'a') + "\r\n\r\n").status, 200);
  HttpResponse r = exchange("GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(9000, 'a') + "\r\n\r\n");
  EXPECT_TRUE(r.status == 431 || r.status == 0) << r.status;
}

TEST_F(MetricsHttp, ABodyIsRefused) {
  start();
  EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").status, 413);
  EXPECT_EQ(exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n").status, 413);
  EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").status, 413);
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsHttp, GarbageIs400AndTheServerCarriesOn) {
  start();
  const std::string garbage[] = {
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(300, '\x42') + "\r\n\r\n",  // TLS
      "hello\r\n\r\n",
      "GET\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET /met rics HTTP/1.1\r\n\r\n",
      std::string("GET /metrics\0 HTTP/1.1\r\n\r\n", 26),
      "\r\n\r\n\r\n",
  };
  for (const auto& g : garbage) {
    int fd = connect_one();
    send_all(fd, g);
    Received r = receive(fd, 3s);
    EXPECT_TRUE(r.closed);
    auto response = take_response(r.bytes);
    ASSERT_TRUE(response) << "no answer to " << testing::PrintToString(g.substr(0, 30));
    EXPECT_EQ(response->status, 400) << testing::PrintToString(g.substr(0, 30));
  }
  // Beast reads HTTP/1.0 and 1.1 only.
  EXPECT_EQ(exchange("GET /metrics HTTP/2.0\r\n\r\n").status, 400);
  EXPECT_EQ(exchange("GET /metrics HTTP/1.2\r\n\r\n").status, 400);
  // A client that sends half a request and closes its side gets a 400 too.
  int fd = connect_one();
  send_all(fd, "GET /metr");
  shutdown(fd, SHUT_WR);
  Received r = receive(fd, 3s);
  auto response = take_response(r.bytes);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(exchange(GET).status, 200);
  EXPECT_EQ(renders_, 1);
}

TEST_F(MetricsHttp, AClientThatSendsNothingIsDroppedAfterTheTimeout) {
  MetricsHttpServer::Limits limits = fresh();
  limits.request_timeout = 300ms;
  start(limits);
  int fd = connect_one();
  const auto t0 = Clock::now();
  Received r = receive(fd, 3s);
  const auto waited = Clock::now() - t0;
  EXPECT_TRUE(r.closed);
  EXPECT_TRUE(r.bytes.empty());
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2s);
  EXPECT_EQ(counters().timed_out, 1u);
  EXPECT_EQ(open_connections(), 0);
}

TEST_F(MetricsHttp, TricklingBytesDoesNotExtendTheRequestTime) {
  MetricsHttpServer::Limits limits = fresh();
  limits.request_timeout = 400ms;
  start(limits);
  int fd = connect_one();
  const auto t0 = Clock::now();
  bool closed = false;
  for (char c : std::string("GET /metrics HTTP/1.1\r\nX-Slow: ") + std::string(100, 'z')) {
    send_all(fd, std::string_view(&c, 1));
    Received r = receive(fd, 50ms);
    if (r.closed) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_EQ(counters().timed_out, 1u);
}

TEST_F(MetricsHttp, AnIdleKeptAliveConnectionIsClosedAfterTheIdleTimeout) {
  MetricsHttpServer::Limits limits = fresh();
  limits.request_timeout = 2s;
  limits.idle_timeout = 300ms;
  start(limits);
  int fd = connect_one();
  send_all(fd, GET);
  std::string bytes;
  std::optional<HttpResponse> answered;
  for (auto deadline = Clock::now() + 1s; !answered && Clock::now() < deadline;) {
    bytes += receive(fd, 10ms).bytes;
    answered = take_response(bytes);
  }
  ASSERT_TRUE(answered);
  const auto t0 = Clock::now();
  Received r = receive(fd, 3s);
  EXPECT_TRUE(r.closed);
  EXPECT_GE(Clock::now() - t0, 250ms);
  EXPECT_LT(Clock::now() - t0, 1500ms);
  EXPECT_EQ(counters().timed_out, 1u);
}

TEST_F(MetricsHttp, ConnectionsBeyondTheCapAreClosedAtOnce) {
  MetricsHttpServer::Limits limits = fresh();
  limits.max_connections = 3;
  start(limits);
  for (int i = 0; i < 3; ++i) connect_one();
  wait_open(3);
  int extra = connect_one();
  const auto t0 = Clock::now();
  Received r = receive(extra, 2s);
  EXPECT_TRUE(r.closed);
  EXPECT_TRUE(r.bytes.empty());
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(counters().refused_busy, 1u);
  // A slot freed is a slot taken again.
  close(fds_.front());
  fds_.erase(fds_.begin());
  wait_open(2);
  EXPECT_EQ(exchange(GET).status, 200);
}

TEST_F(MetricsHttp, ScrapesWithinTheRenderIntervalShareOneRendering) {
  MetricsHttpServer::Limits limits;
  limits.min_render_interval = 300ms;
  start(limits);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(exchange(GET).body, METRICS);
  EXPECT_EQ(renders_, 1);
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(exchange(GET).status, 200);
  EXPECT_EQ(renders_, 2);
  EXPECT_EQ(counters().renders, 2u);
  EXPECT_EQ(counters().scrapes, 6u);
}

TEST_F(MetricsHttp, IPv6Loopback) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "no ::1 on this host";
  start(fresh(), "::1");
  EXPECT_EQ(server_->local_endpoint().to_string(), "[::1]:" + std::to_string(port_));
  HttpResponse r = exchange("GET /metrics HTTP/1.1\r\nHost: [::1]\r\n\r\n", true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, METRICS);
}

TEST_F(MetricsHttp, StoppingClosesOpenConnections) {
  start();
  int fd = connect_one();
  wait_open(1);
  stop();
  Received r = receive(fd, 2s);
  EXPECT_TRUE(r.closed);
}

TEST(MetricsHttpListen, AnAddressInUseNamesTheSettingAndTheFix) {
  boost::asio::io_context io;
  auto first = MetricsHttpServer::listen(io, loopback(), [] { return std::string(); });
  ASSERT_TRUE(first) << first.message();
  const uint16_t port = ntohs((*first)->local_endpoint().sa.sin6_port);
  auto second = MetricsHttpServer::listen(io, loopback("127.0.0.1", port), [] { return std::string(); });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.message(), "metrics.listen 127.0.0.1:" + std::to_string(port) +
                                  ": address already in use; stop the other process or choose another port");
}

TEST(MetricsHttpListen, AnAddressOfNoInterfaceSaysSo) {
  boost::asio::io_context io;
  auto s = MetricsHttpServer::listen(io, loopback("192.0.2.1", 9586), [] { return std::string(); });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "metrics.listen 192.0.2.1:9586: no interface of this host has that address; use one of its "
                         "addresses, like 127.0.0.1 or [::1]");
}

// The socket-free exchange (the fuzz target's) answers as a connection does.
TEST(MetricsHttpExchange, AnswersAsTheServerDoes) {
  auto render = [] { return METRICS; };
  MetricsHttpExchange ex = metrics_http_exchange(GET, render);
  ASSERT_EQ(ex.statuses, std::vector<int>{200});
  EXPECT_FALSE(ex.closed_by_server);
  EXPECT_NE(ex.written.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(ex.written.find(METRICS), std::string::npos);

  ex = metrics_http_exchange(std::string(GET) + "POST /metrics HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n" + GET, render);
  EXPECT_EQ(ex.statuses, (std::vector<int>{200, 405, 404, 200}));
  // Split into bytes of one, the same.
  EXPECT_EQ(metrics_http_exchange(std::string(GET) + GET, render, MetricsHttpServer::MAX_HEADER_BYTES, 1).statuses,
            (std::vector<int>{200, 200}));
  ex = metrics_http_exchange("\x01\x02garbage\r\n\r\n", render);
  EXPECT_EQ(ex.statuses, std::vector<int>{400});
  EXPECT_TRUE(ex.closed_by_server);
  EXPECT_EQ(metrics_http_exchange("GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'x'), render).statuses,
            std::vector<int>{431});
  EXPECT_EQ(metrics_http_exchange("GET /metrics HTTP/1.0\r\n\r\n" + std::string(GET), render).statuses,
            std::vector<int>{200});  // HTTP/1.0: closed after the first
  EXPECT_TRUE(metrics_http_exchange("", render).statuses.empty());
}

}  // namespace
}  // namespace zeq
