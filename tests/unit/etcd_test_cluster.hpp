// Real etcd processes for the etcd backend's tests (etcd_directory_test.cpp):
// one or more members on 127.0.0.1 with free random ports, data directories
// under a mkdtemp folder, plain or TLS, started with fast elections, waited
// for with `etcdctl endpoint health` (bounded), killed by PID (SIGKILL) and
// restarted on the same ports. Every member is killed when the cluster goes
// away, and the kernel kills them if the test process dies first
// (PR_SET_PDEATHSIG). Also: etcdctl runs, openssl-made test certificates,
// a TCP relay the test can cut or hold, and (private_network.hpp) a network namespace of the
// test's own where it can take an address away (a host that moves).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "private_network.hpp"

namespace zeq::test {

inline std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  dirs += ":/usr/bin:/usr/local/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (!candidate.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

// A port nothing listens on now (bound to 0, read back, released).
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}


// Polls pred every 20 ms until it holds or timeout passes.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A temporary folder (mkdtemp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "zeq-etcd-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A CA, a server certificate for IP 127.0.0.1 (and a client certificate),
// made with the openssl CLI; a second, unrelated CA for the negative test.
struct TestPki {
  std::string ca, server_cert, server_key, client_cert, client_key, other_ca;
  // An empty string when all went well, else the failing command's output.
  static std::string make(const std::string& dir, TestPki& out) {
    out.ca = dir + "/ca.crt";
    out.server_cert = dir + "/server.crt";
    out.server_key = dir + "/server.key";
    out.client_cert = dir + "/client.crt";
    out.client_key = dir + "/client.key";
    out.other_ca = dir + "/other-ca.crt";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::vector<std::string> steps = {
        "openssl req -x509" + ec + " -keyout " + dir + "/ca.key -out " + out.ca + " -days 2 -subj /CN=zeq-test-ca",
        "openssl req -x509" + ec + " -keyout " + dir + "/other-ca.key -out " + out.other_ca +
            " -days 2 -subj /CN=zeq-other-ca",
        "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' > " + dir + "/server.ext",
        "printf 'extendedKeyUsage=clientAuth\\n' > " + dir + "/client.ext",
        "openssl req" + ec + " -keyout " + out.server_key + " -out " + dir + "/server.csr -subj /CN=etcd-test",
        "openssl x509 -req -in " + dir + "/server.csr -CA " + out.ca + " -CAkey " + dir +
            "/ca.key -CAcreateserial -days 2 -out " + out.server_cert + " -extfile " + dir + "/server.ext",
        "openssl req" + ec + " -keyout " + out.client_key + " -out " + dir + "/client.csr -subj /CN=root",
        "openssl x509 -req -in " + dir + "/client.csr -CA " + out.ca + " -CAkey " + dir +
            "/ca.key -CAcreateserial -days 2 -out " + out.client_cert + " -extfile " + dir + "/client.ext",
    };
    for (const auto& step : steps) {
      std::string output;
      if (run_command(step, &output) != 0) return step + ": " + output;
    }
    return {};
  }
};

// A TCP relay on 127.0.0.1 (or another local IPv4 address) to one port of
// 127.0.0.1, which the test can cut (every connection dropped, new ones
// closed at once) and mend: a client that loses etcd while etcd itself
// carries on; or hold (nothing relayed either way, every connection kept
// open: what was sent is acknowledged and never answered) and release.
class TcpProxy {
 public:
  explicit TcpProxy(uint16_t upstream, const std::string& listen_ip = "127.0.0.1")
      : upstream_(upstream), listen_ip_(listen_ip) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    ::inet_pton(AF_INET, listen_ip_.c_str(), &sa.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::listen(fd_, 16);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TcpProxy() {
    stop_ = true;
    thread_.join();
    for (auto& [a, b] : pairs_) {
      ::close(a);
      ::close(b);
    }
    ::close(fd_);
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::string endpoint() const { return "http://" + listen_ip_ + ":" + std::to_string(port_); }
  void cut() { cut_ = true; }
  void mend() { cut_ = false; }
  // Returns once nothing is relayed any more.
  void hold() {
    hold_ = true;
    const uint64_t now = rounds_;
    while (rounds_ < now + 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void release() { hold_ = false; }

 private:
  // One thread: poll() over the listening socket and every pair.
  void run() {
    while (!stop_) {
      ++rounds_;
      if (cut_) {
        for (auto& [a, b] : pairs_) {
          ::close(a);
          ::close(b);
        }
        pairs_.clear();
      }
      std::vector<pollfd> fds{{fd_, POLLIN, 0}};
      const bool held = hold_;  // held: what arrives stays unread, nothing is noticed
      for (auto& [a, b] : pairs_) {
        if (held) break;
        fds.push_back({a, POLLIN, 0});
        fds.push_back({b, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0 && cut_) {
          ::close(c);
        } else if (c >= 0) {
          int u = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          sockaddr_in sa{};
          sa.sin_family = AF_INET;
          sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          sa.sin_port = htons(upstream_);
          if (::connect(u, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
            pairs_.emplace_back(c, u);
          } else {
            ::close(u);
            ::close(c);
          }
        }
      }
      std::vector<size_t> dead;
      for (size_t i = 0; i + 1 < fds.size(); i += 2) {
        const size_t pair = i / 2;
        for (int side = 0; side < 2; ++side) {
          if (!(fds[1 + i + size_t(side)].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          int from = side == 0 ? pairs_[pair].first : pairs_[pair].second;
          int to = side == 0 ? pairs_[pair].second : pairs_[pair].first;
          char buf[65536];
          ssize_t n = ::recv(from, buf, sizeof buf, 0);
          if (n <= 0 || ::send(to, buf, size_t(n), MSG_NOSIGNAL) != n) {
            dead.push_back(pair);
            break;
          }
        }
      }
      for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
        ::close(pairs_[*it].first);
        ::close(pairs_[*it].second);
        pairs_.erase(pairs_.begin() + long(*it));
      }
    }
  }

  uint16_t upstream_;
  std::string listen_ip_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false}, cut_{false}, hold_{false};
  std::atomic<uint64_t> rounds_{0};
  std::vector<std::pair<int, int>> pairs_;
  std::thread thread_;
};


// One to a few etcd members, all on 127.0.0.1.
class EtcdCluster {
 public:
  struct Options {
    int members = 1;
    const TestPki* tls = nullptr;  // https on the client port (mutual TLS when client_auth)
    bool client_auth = false;
    std::vector<std::string> extra_args = {};  // more etcd flags
  };

  static bool available() { return !find_program("etcd").empty() && !find_program("etcdctl").empty(); }

  explicit EtcdCluster(Options options) : options_(options) {
    for (int i = 0; i < options_.members; ++i) {
      Member m;
      m.name = "m" + std::to_string(i);
      m.client_port = free_port();
      m.peer_port = free_port();
      m.data_dir = dir_.path() + "/" + m.name + ".etcd";
      m.log = dir_.path() + "/" + m.name + ".log";
      members_.push_back(m);
    }
  }
  ~EtcdCluster() {
    for (size_t i = 0; i < members_.size(); ++i) kill(int(i));
  }
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Starts every member, then waits (bounded) until each is healthy.
  bool start() {
    for (size_t i = 0; i < members_.size(); ++i)
      if (!spawn(int(i), /*join_existing=*/false)) return false;
    for (size_t i = 0; i < members_.size(); ++i)
      if (!wait_healthy(int(i))) return false;
    return true;
  }

  void kill(int i) {
    Member& m = members_[size_t(i)];
    if (m.pid <= 0) return;
    ::kill(m.pid, SIGKILL);
    ::waitpid(m.pid, nullptr, 0);
    m.pid = -1;
  }

  // Starts a killed member again on its ports; wipe: with an empty data
  // directory (a single-member cluster made anew: etcd's data is lost).
  bool restart(int i, bool wipe = false) {
    kill(i);
    if (wipe) {
      std::error_code ec;
      std::filesystem::remove_all(members_[size_t(i)].data_dir, ec);
    }
    return spawn(i, !wipe && members_.size() > 1) && wait_healthy(i);
  }

  std::string endpoint(int i) const {
    return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(members_[size_t(i)].client_port);
  }
  std::vector<std::string> endpoints() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < members_.size(); ++i) out.push_back(endpoint(int(i)));
    return out;
  }
  uint16_t client_port(int i) const { return members_[size_t(i)].client_port; }
  const std::string& dir() const { return dir_.path(); }

  // etcdctl against every member; extra flags (e.g. --user root:pw) first.
  int etcdctl(const std::string& args, std::string* output = nullptr, const std::string& flags = "") const {
    std::string eps;
    for (const auto& e : endpoints()) eps += (eps.empty() ? "" : ",") + e;
    return run_command("ETCDCTL_API=3 etcdctl --command-timeout=3s --endpoints=" + eps + tls_flags() + " " + flags +
                           " " + args,
                       output);
  }

  std::string log_of(int i) const {
    std::string out;
    run_command("tail -n 20 " + members_[size_t(i)].log, &out);
    return out;
  }

 private:
  struct Member {
    std::string name, data_dir, log;
    uint16_t client_port = 0, peer_port = 0;
    pid_t pid = -1;
  };

  std::string tls_flags() const {
    if (!options_.tls) return {};
    std::string f = " --cacert=" + options_.tls->ca;
    if (options_.client_auth) f += " --cert=" + options_.tls->client_cert + " --key=" + options_.tls->client_key;
    return f;
  }

  bool spawn(int i, bool join_existing) {
    Member& m = members_[size_t(i)];
    std::string cluster;
    for (const auto& o : members_)
      cluster += (cluster.empty() ? "" : ",") + o.name + "=http://127.0.0.1:" + std::to_string(o.peer_port);
    const std::string client = endpoint(i);
    const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
    std::vector<std::string> args = {
        find_program("etcd"),
        "--name=" + m.name,
        "--data-dir=" + m.data_dir,
        "--listen-client-urls=" + client,
        "--advertise-client-urls=" + client,
        "--listen-peer-urls=" + peer,
        "--initial-advertise-peer-urls=" + peer,
        "--initial-cluster=" + cluster,
        "--initial-cluster-token=zeq-test-" + dir_.path(),
        std::string("--initial-cluster-state=") + (join_existing ? "existing" : "new"),
        "--heartbeat-interval=50",
        "--election-timeout=500",
        "--logger=zap",
        "--log-level=warn",
    };
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    if (options_.tls) {
      args.push_back("--cert-file=" + options_.tls->server_cert);
      args.push_back("--key-file=" + options_.tls->server_key);
      if (options_.client_auth) {
        args.push_back("--client-cert-auth");
        args.push_back("--trusted-ca-file=" + options_.tls->ca);
      }
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = m.log;
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      // Only async-signal-safe calls until exec (the test may run threads).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    m.pid = pid;
    return true;
  }

  bool wait_healthy(int i) {
    const std::string ep = endpoint(i);
    return eventually(
        [&] {
          Member& m = members_[size_t(i)];
          if (m.pid <= 0) return false;
          if (::waitpid(m.pid, nullptr, WNOHANG) == m.pid) {  // it died: reaped, never signalled again
            m.pid = -1;
            return false;
          }
          return run_command("ETCDCTL_API=3 etcdctl --dial-timeout=1s --command-timeout=1s --endpoints=" + ep +
                             tls_flags() + " endpoint health") == 0;
        },
        std::chrono::seconds(15));
  }

  Options options_;
  TempDir dir_;
  std::vector<Member> members_;
};

}  // namespace zeq::test
