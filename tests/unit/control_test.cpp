// The control socket's JSON protocol over a real Unix socket (server on its
// own io_context thread, the zeqvpnctl client against it), who may connect,
// and the JSON and Prometheus renderings of a node's status.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <utility>  // before Boost.Asio

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <filesystem>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include "control/control_client.hpp"
#include "control/control_protocol.hpp"
#include "control/control_request.hpp"
#include "control/control_server.hpp"
#include "control/peer_credentials.hpp"
#include "daemon/control_handler.hpp"
#include "daemon/status_json.hpp"

namespace zeq {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// One line from fd, waiting at most 5 s in all: a server that never answers
// fails the test instead of hanging it.
std::string read_line(int fd) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) {
      ADD_FAILURE() << "no complete line within 5 s; got '" << line << "'";
      return line;
    }
    char c;
    if (read(fd, &c, 1) != 1 || c == '\n') return line;
    line += c;
  }
}

class ControlSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zeqvpn-ctl-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    path_ = (dir_ / "run" / "test.sock").string();  // the directory does not exist yet
  }
  void TearDown() override {
    stop();
    fs::remove_all(dir_);
  }

  void start(control::Handler handler, control::ControlServer::Limits limits = {}) {
    auto s = control::ControlServer::listen(io_, path_, "root", std::move(handler), limits);
    ASSERT_TRUE(s) << s.message();
    server_ = std::move(s.value());
    thread_ = std::thread([this] { io_.run(); });
  }
  void stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    io_.stop();
    thread_.join();
    server_.reset();
  }

  // A connection that sends nothing. With uid (the test runs as root), it
  // is made under that effective uid and gid 0, the control group here, so
  // SO_PEERCRED shows a group member who is not root.
  int connect_one(uid_t uid = 0) {
    if (uid != 0) {
      EXPECT_EQ(seteuid(uid), 0);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path_.c_str(), sizeof sa.sun_path - 1);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    if (uid != 0) {
      EXPECT_EQ(seteuid(0), 0);
    }
    return fd;
  }

  // The server's counters, read on its own thread.
  control::ControlCounters counters() {
    std::promise<control::ControlCounters> p;
    boost::asio::post(io_, [&] { p.set_value(server_->counters()); });
    return p.get_future().get();
  }

  // A raw exchange, for requests the client would never send.
  std::string raw(const std::string& line) {
    int fd = connect_one();
    EXPECT_EQ(write(fd, line.data(), line.size()), ssize_t(line.size()));
    std::string reply = read_line(fd);
    close(fd);
    return reply;
  }

  fs::path dir_;
  std::string path_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{io_.get_executor()};
  std::unique_ptr<control::ControlServer> server_;
  std::thread thread_;
};

control::Reply echo(const std::string& cmd, const json& args) {
  if (cmd == "echo") return control::Reply::success({{"args", args}});
  if (cmd == "peer") return control::Reply::failure(control::UNKNOWN_PEER, "unknown peer 'x'");
  return control::Reply::failure(control::UNKNOWN_COMMAND, "unknown command '" + cmd + "'");
}

TEST_F(ControlSocket, RoundTripErrorsAndVersioning) {
  start(echo);
  struct stat st{};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);  // group root exists, so the socket is 0660 root:root
  EXPECT_EQ(st.st_gid, 0u);

  auto ok = control::call(path_, "echo", {{"peer", "beta"}});
  ASSERT_EQ(ok.kind, control::CallResult::kOk) << ok.message;
  EXPECT_EQ(ok.result["args"]["peer"], "beta");

  auto unknown = control::call(path_, "peer", json::object());
  EXPECT_EQ(unknown.kind, control::CallResult::kDaemonError);
  EXPECT_EQ(unknown.code, control::UNKNOWN_PEER);
  EXPECT_EQ(unknown.message, "unknown peer 'x'");

  json r = json::parse(raw("{\"v\":2,\"id\":9,\"cmd\":\"echo\"}\n"));
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["id"], 9);
  EXPECT_EQ(r["error"]["code"], control::UNSUPPORTED_VERSION);
  r = json::parse(raw("not json\n"));
  EXPECT_EQ(r["error"]["code"], control::BAD_REQUEST);
  r = json::parse(raw("{\"v\":1,\"cmd\":\"echo\",\"args\":[1]}\n"));
  EXPECT_EQ(r["error"]["code"], control::BAD_REQUEST);
  r = json::parse(raw("{\"v\":1,\"id\":\"x\",\"cmd\":\"echo\",\"args\":{\"n\":1}}\n"));
  EXPECT_EQ(r["ok"], true);
  EXPECT_EQ(r["v"], control::PROTOCOL_VERSION);
  EXPECT_EQ(r["result"]["args"]["n"], 1);
}

// True once the server has closed fd (end of file), within `within`.
bool closed_by_server(int fd, std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) return false;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return true;  // anything sent before closing is skipped
  }
}

TEST_F(ControlSocket, NonRootIsBoundedAndRootAlwaysGetsIn) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  start(echo);
  std::vector<int> idle;
  for (int i = 0; i < control::ControlServer::MAX_CONNECTIONS; ++i) idle.push_back(connect_one(65534));
  int extra = connect_one(65534);
  std::string reply = read_line(extra);
  close(extra);
  EXPECT_NE(reply.find("too many control connections"), std::string::npos) << reply;
  // Root takes the oldest idle connection's slot, at once.
  auto r = control::call(path_, "echo", json::object(), 2000);
  EXPECT_EQ(r.kind, control::CallResult::kOk) << r.message;
  EXPECT_TRUE(closed_by_server(idle[0], std::chrono::seconds(5))) << "the oldest idle connection was not closed";
  EXPECT_FALSE(closed_by_server(idle[1], std::chrono::milliseconds(0)));
  auto k = counters();
  EXPECT_EQ(k.refused_busy, 1u);
  EXPECT_EQ(k.evicted, 1u);
  EXPECT_EQ(k.accepted, uint64_t(control::ControlServer::MAX_CONNECTIONS) + 1);
  for (int fd : idle) close(fd);
  // Once they are gone, anyone's requests are served again.
  for (int i = 0; i < 50; ++i) {
    int fd = connect_one(65534);
    std::string line = "{\"v\":1,\"cmd\":\"echo\"}\n";
    EXPECT_EQ(write(fd, line.data(), line.size()), ssize_t(line.size()));
    std::string answer = read_line(fd);
    close(fd);
    if (answer.find("\"ok\":true") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL() << "the server did not recover after the idle connections closed";
}

TEST_F(ControlSocket, RootAmongRootConnectionsGetsInToo) {
  start(echo, {.max_connections = 4});
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(connect_one());
  auto r = control::call(path_, "echo", json::object(), 2000);
  EXPECT_EQ(r.kind, control::CallResult::kOk) << r.message;
  EXPECT_TRUE(closed_by_server(idle[0], std::chrono::seconds(5)));
  for (int fd : idle) close(fd);
}

TEST_F(ControlSocket, IdleAndTricklingConnectionsAreClosedAfterTheTimeout) {
  start(echo, {.request_timeout = std::chrono::milliseconds(300)});
  int idle = connect_one();
  int trickle = connect_one();
  int served = connect_one();
  std::string line = "{\"v\":1,\"cmd\":\"echo\"}\n";
  EXPECT_EQ(send(served, line.data(), line.size(), MSG_NOSIGNAL), ssize_t(line.size()));
  EXPECT_NE(read_line(served).find("\"ok\":true"), std::string::npos);
  // A request sent a byte at a time, never finished: the deadline is per
  // request, not per byte.
  for (int i = 0; i < 8; ++i) {
    (void)send(trickle, "{", 1, MSG_NOSIGNAL);  // fails once the server has closed it
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(closed_by_server(idle, std::chrono::seconds(5))) << "idle connection still open";
  EXPECT_TRUE(closed_by_server(trickle, std::chrono::seconds(5))) << "trickling connection still open";
  // After a reply the next request has its own deadline.
  EXPECT_TRUE(closed_by_server(served, std::chrono::seconds(5))) << "connection idle after its reply still open";
  close(idle);
  close(trickle);
  close(served);
  EXPECT_GE(counters().timed_out, 3u);
}

TEST_F(ControlSocket, NulOrTrailingBytesAreABadRequest) {
  start(echo);
  json r = json::parse(raw(std::string("{\"v\":1,\"id\":3,\"cmd\":\"echo\"}\0garbage\n", 36)));
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["error"]["code"], control::BAD_REQUEST);
  EXPECT_EQ(r["error"]["message"], "request has a NUL byte at offset 27; send one JSON object per line and nothing else");
  r = json::parse(raw("{\"v\":1,\"cmd\":\"echo\"} {\"v\":1}\n"));
  EXPECT_EQ(r["error"]["code"], control::BAD_REQUEST);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("trailing bytes"), std::string::npos) << r;
  r = json::parse(raw("{\"v\":1,\"cmd\":\"echo\"} \r\n"));  // white space after it is fine
  EXPECT_EQ(r["ok"], true) << r;
  EXPECT_EQ(counters().bad_requests, 2u);
}

TEST(ControlRequest, ParsesOneObjectAndNothingElse) {
  auto ok = control::parse_request(R"({"v":1,"id":"a","cmd":"up","args":{"peer":"beta"}})");
  ASSERT_TRUE(ok.ok) << ok.message;
  EXPECT_EQ(ok.request.id, "a");
  EXPECT_EQ(ok.request.cmd, "up");
  EXPECT_EQ(ok.request.args["peer"], "beta");
  EXPECT_TRUE(control::parse_request(R"({"v":1,"cmd":"status"})").request.args.is_object());

  auto nul = control::parse_request(std::string_view("{\"v\":1,\"cmd\":\"status\"}\0garbage", 30));
  EXPECT_FALSE(nul.ok);
  EXPECT_EQ(nul.code, control::BAD_REQUEST);
  EXPECT_NE(nul.message.find("NUL byte at offset 22"), std::string::npos) << nul.message;
  for (std::string bad : {R"({"v":1,"cmd":"status"}x)", R"({"v":1,"cmd":"status"}{})", "[1]", "", "nul",
                          R"({"v":1,"cmd":7})", R"({"v":1,"cmd":"s","args":[]})", "\xff"}) {
    auto p = control::parse_request(bad);
    EXPECT_FALSE(p.ok) << bad;
    EXPECT_EQ(p.code, control::BAD_REQUEST) << bad;
  }
  auto version = control::parse_request(R"({"v":2,"id":9,"cmd":"status"})");
  EXPECT_EQ(version.code, control::UNSUPPORTED_VERSION);
  EXPECT_EQ(version.request.id, 9);
}

TEST_F(ControlSocket, SecondDaemonIsRefusedAndStaleSocketReplaced) {
  start(echo);
  boost::asio::io_context other;
  auto second = control::ControlServer::listen(other, path_, "root", echo);
  ASSERT_FALSE(second);
  EXPECT_NE(second.message().find("another zeqvpnd is serving it"), std::string::npos) << second.message();
  stop();
  EXPECT_FALSE(fs::exists(path_));  // removed on shutdown

  // A socket file nobody listens on (a crashed daemon's) is replaced.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path_.c_str(), sizeof sa.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  close(fd);
  ASSERT_TRUE(fs::exists(path_));
  auto third = control::ControlServer::listen(other, path_, "root", echo);
  EXPECT_TRUE(third) << third.message();
}

TEST(ControlClient, NotRunningIsItsOwnKind) {
  auto r = control::call("/nonexistent/zeqvpnd.sock", "status", json::object());
  EXPECT_EQ(r.kind, control::CallResult::kNotRunning);
  EXPECT_NE(r.message.find("zeqvpnd is not running"), std::string::npos) << r.message;
}

TEST(PeerCredentials, RootOwnUserAndGroupMembersOnly) {
  control::PeerCredentials root{1, 0, 0}, daemon{1, 990, 990}, member{1, 1000, 42}, other{1, 1000, 1000};
  EXPECT_TRUE(control::may_control(root, std::nullopt, 990));
  EXPECT_TRUE(control::may_control(daemon, std::nullopt, 990));
  EXPECT_TRUE(control::may_control(member, gid_t(42), 990));
  EXPECT_FALSE(control::may_control(other, gid_t(42), 990));
  EXPECT_FALSE(control::may_control(member, std::nullopt, 990));
  EXPECT_EQ(control::group_id("root"), gid_t(0));
  EXPECT_FALSE(control::group_id("no-such-group-zeqvpn"));
}

NodeStatus sample_status() {
  NodeStatus s;
  s.zid = "zeq-aaaaaaaaaaaa";
  s.interface = "zeq0";
  s.listen_port = 51820;
  s.uptime_us = 2'500'000;
  s.zeqond = 2310167310;
  s.phase = 0.25;
  s.handshakes_completed = 3;
  s.handshake_rejects["bad_noise"] = 2;
  s.drops["bad_tag"] = 0;
  s.drops["replay"] = 4;
  s.received["keepalive"] = 1;
  PeerStatus p;
  p.name = "be\"ta";
  p.zid = "zeq-bbbbbbbbbbbb";
  p.state = "up";
  p.allowed_ips = {"10.77.0.2/32"};
  p.last_handshake_age_us = 1'554'000;  // two Zeqonds
  p.rx_bytes = 100;
  s.peers.push_back(p);
  PeerStatus q;
  q.zid = "zeq-cccccccccccc";
  q.state = "connecting";
  s.peers.push_back(q);
  return s;
}

TEST(ControlHandler, StatusJsonCarriesAgesInZeqondsAndSeconds) {
  json j = status_json(sample_status(), GuardStatus{});
  EXPECT_EQ(j["node"]["zeqond"], 2310167310u);
  EXPECT_DOUBLE_EQ(j["node"]["uptime_s"].get<double>(), 2.5);
  EXPECT_EQ(j["peers"][0]["last_handshake_zeqonds"], 2);
  EXPECT_NEAR(j["peers"][0]["last_handshake_s"].get<double>(), 1.554, 1e-9);
  EXPECT_TRUE(j["peers"][0]["endpoint"].is_null());
  EXPECT_TRUE(j["peers"][1]["last_handshake_s"].is_null());
  EXPECT_EQ(j["handshakes"]["rejected"]["bad_noise"], 2);
}

TEST(ControlHandler, MetricsAreValidPrometheusText) {
  std::string text = metrics_text(sample_status(), GuardStatus{});
  std::istringstream in(text);
  std::string line;
  const std::regex sample(R"(^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? -?[0-9.]+$)");
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 20);
  EXPECT_NE(text.find("zeqvpn_peer_up{peer=\"be\\\"ta\",zid=\"zeq-bbbbbbbbbbbb\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("zeqvpn_peer_up{peer=\"\",zid=\"zeq-cccccccccccc\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("zeqvpn_drops_total{reason=\"replay\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("zeqvpn_handshakes_rejected_total{reason=\"bad_noise\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("zeqvpn_peer_last_handshake_seconds{peer=\"\",zid=\"zeq-cccccccccccc\"} -1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE zeqvpn_peer_rx_bytes_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace zeq
