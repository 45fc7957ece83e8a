// Test helpers for code that talks to the kernel's network stack: a shell
// command's exit code and output, and a network namespace of the test's own
// where it may add and remove interfaces, addresses and routes.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace zeq::test {

// Runs a shell command line, returning its exit code and output (stdout and stderr).
inline int run_command(const std::string& command, std::string* output = nullptr) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int rc = ::pclose(p);
  if (output) *output = out;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A network namespace of the calling thread's own, loopback up, inherited by
// the threads and processes it starts from then on (etcd members, relays,
// the directory's thread): there the test may add and remove addresses and
// routing rules, e.g. take away the local address of a client's
// connections (a host that moved: the connections die without a word). It
// needs CAP_SYS_ADMIN (root), or else unprivileged user namespaces and a
// single-threaded process; ok() says whether it worked, why() why not. The
// thread goes back to its own network at the end when it can (not out of a
// user namespace).
class PrivateNetwork {
 public:
  PrivateNetwork() {
    original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
      if (::access(p, X_OK) == 0) {
        ip_ = p;
        break;
      }
    if (ip_.empty()) {
      why_ = "no ip command (Debian package iproute2)";
      return;
    }
    if (::unshare(CLONE_NEWNET) != 0) {
      const int first = errno;
      if (!enter_user_namespace()) {
        why_ = std::string("cannot make a network namespace: ") + std::strerror(first) +
               " (needs root, or unprivileged user namespaces)";
        return;
      }
    }
    entered_ = true;
    std::string out;
    if (!ip("link set lo up", &out)) {
      why_ = "ip link set lo up: " + out;
      return;
    }
    ok_ = true;
  }
  ~PrivateNetwork() {
    if (original_ < 0) return;
    if (entered_) (void)::setns(original_, CLONE_NEWNET);
    ::close(original_);
  }
  PrivateNetwork(const PrivateNetwork&) = delete;
  PrivateNetwork& operator=(const PrivateNetwork&) = delete;

  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  // Runs `ip ARGS` in the namespace; true when it exited 0.
  bool ip(const std::string& args, std::string* output = nullptr) const {
    return run_command(ip_ + " " + args, output) == 0;
  }

 private:
  // The unprivileged way: a user namespace (this user as its root) with the
  // network namespace. Only a single-threaded process may enter one.
  static bool enter_user_namespace() {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return false;
    auto write = [](const char* path, const std::string& text) {
      std::ofstream f(path);
      f << text;
      f.close();
      return !f.fail();
    };
    write("/proc/self/setgroups", "deny");
    return write("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") &&
           write("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n");
  }

  int original_ = -1;
  bool entered_ = false;
  bool ok_ = false;
  std::string ip_, why_;
};

}  // namespace zeq::test
