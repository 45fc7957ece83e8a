#include "mesh/ares_resolver.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <arpa/inet.h>
#include <ares.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

namespace zeq {

namespace asio = boost::asio;

namespace {

// c-ares wants its library set up once per process before any channel.
Status init_library() {
  static const int rc = ares_library_init(ARES_LIB_INIT_ALL);
  if (rc != ARES_SUCCESS) return Status::error(std::string("c-ares: ") + ares_strerror(rc));
  return Status::ok();
}

}  // namespace

struct AresResolver::Impl {
  Impl(asio::io_context& ctx, uint32_t mark) : io(ctx), fwmark(mark), timer(ctx) {}
  ~Impl();

  // One c-ares socket, watched by Asio. c-ares opens and closes it; Asio
  // only waits on it.
  struct Watch {
    Watch(asio::io_context& ctx, int fd) : descriptor(ctx, fd) {}
    asio::posix::stream_descriptor descriptor;
    bool want_read = false, want_write = false, reading = false, writing = false;
  };
  struct Query {
    Impl* impl;
    uint16_t port;
    Done done;
  };

  void watch(int fd, bool readable, bool writable);
  void arm(int fd, const std::shared_ptr<Watch>& w);
  void process(int read_fd, int write_fd);
  void schedule_timeout();
  void deliver(Done done, Answer answer);

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
  static int on_socket_created(ares_socket_t fd, int type, void* data);
  static void on_addrinfo(void* arg, int status, int timeouts, ares_addrinfo* res);

  asio::io_context& io;
  const uint32_t fwmark;
  asio::steady_timer timer;
  ares_channel channel = nullptr;
  std::map<int, std::shared_ptr<Watch>> watches;
  std::string server_list;
  // Handlers already queued when the resolver goes away check this first.
  std::shared_ptr<int> alive = std::make_shared<int>(0);
  bool closing = false;
  bool mark_failure_logged = false;
};

AresResolver::Impl::~Impl() {
  closing = true;
  // Ends every query (ARES_EDESTRUCTION, not passed on) and closes the
  // sockets, telling watch() about each first.
  if (channel) ares_destroy(channel);
  for (auto& [fd, w] : watches) (void)w->descriptor.release();
  watches.clear();
}

void AresResolver::Impl::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  static_cast<Impl*>(data)->watch(fd, readable != 0, writable != 0);
}

void AresResolver::Impl::watch(int fd, bool readable, bool writable) {
  if (!readable && !writable) {
    auto it = watches.find(fd);
    if (it == watches.end()) return;
    // c-ares closes the socket right after this: Asio lets go of it
    // (cancelling its waits) without closing it.
    (void)it->second->descriptor.release();
    watches.erase(it);
    return;
  }
  auto& w = watches[fd];
  if (!w) {
    try {
      w = std::make_shared<Watch>(io, fd);
    } catch (const boost::system::system_error& e) {
      // Unwatched, the query runs into its timeout and fails with a message.
      watches.erase(fd);
      spdlog::error("endpoint resolution: cannot watch a c-ares socket: {}", e.what());
      return;
    }
  }
  w->want_read = readable;
  w->want_write = writable;
  arm(fd, w);
}

void AresResolver::Impl::arm(int fd, const std::shared_ptr<Watch>& w) {
  using Fd = asio::posix::stream_descriptor;
  // A handler whose Watch is gone (released: the socket is c-ares's again,
  // or closed) does nothing, so it never touches a resolver that is gone.
  if (w->want_read && !w->reading) {
    w->reading = true;
    w->descriptor.async_wait(Fd::wait_read, [this, fd, weak = std::weak_ptr<Watch>(w)](const boost::system::error_code& ec) {
      auto me = weak.lock();
      if (!me) return;
      me->reading = false;
      if (!ec) process(fd, ARES_SOCKET_BAD);
    });
  }
  if (w->want_write && !w->writing) {
    w->writing = true;
    w->descriptor.async_wait(Fd::wait_write, [this, fd, weak = std::weak_ptr<Watch>(w)](const boost::system::error_code& ec) {
      auto me = weak.lock();
      if (!me) return;
      me->writing = false;
      if (!ec) process(ARES_SOCKET_BAD, fd);
    });
  }
}

void AresResolver::Impl::process(int read_fd, int write_fd) {
  ares_process_fd(channel, read_fd, write_fd);
  // c-ares speaks up only when a socket's wishes change; every socket that
  // still wants something is waited on again.
  for (auto& [fd, w] : watches) arm(fd, w);
  schedule_timeout();
}

void AresResolver::Impl::schedule_timeout() {
  timeval tv{};
  if (!ares_timeout(channel, nullptr, &tv)) {
    timer.cancel();
    return;
  }
  timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
  timer.async_wait([this, weak = std::weak_ptr<int>(alive)](const boost::system::error_code& ec) {
    if (ec || weak.expired()) return;
    process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  });
}

void AresResolver::Impl::deliver(Done done, Answer answer) {
  asio::post(io, [weak = std::weak_ptr<int>(alive), done = std::move(done), answer = std::move(answer)]() mutable {
    if (!weak.expired()) done(std::move(answer));
  });
}

// Unmarked, a query could go through the tunnel (full-tunnel routing) or be
// dropped by the kill switch: such a socket is refused and the server
// counts as unreachable.
int AresResolver::Impl::on_socket_created(ares_socket_t fd, int /*type*/, void* data) {
  auto* m = static_cast<Impl*>(data);
  if (m->fwmark == 0) return 0;
  if (::setsockopt(fd, SOL_SOCKET, SO_MARK, &m->fwmark, sizeof m->fwmark) == 0) return 0;
  if (!m->mark_failure_logged)
    spdlog::error("endpoint resolution: cannot give the query's socket fwmark 0x{:x} ({}); zeqvpnd needs CAP_NET_ADMIN. "
                  "Host names are not resolved without it, as the query could go through the tunnel",
                  m->fwmark, std::strerror(errno));
  m->mark_failure_logged = true;
  return -1;
}

void AresResolver::Impl::on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
  std::unique_ptr<Query> q(static_cast<Query*>(arg));
  std::unique_ptr<ares_addrinfo, void (*)(ares_addrinfo*)> info(res, ares_freeaddrinfo);
  Impl* m = q->impl;
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED || m->closing) return;
  if (status != ARES_SUCCESS)
    return m->deliver(std::move(q->done), Status::error(std::string(ares_strerror(status)) + " (asked " + m->server_list + ")"));
  std::vector<UdpEndpoint> out;
  for (auto* n = info ? info->nodes : nullptr; n; n = n->ai_next) {
    if (!n->ai_addr || (n->ai_family != AF_INET && n->ai_family != AF_INET6)) continue;
    UdpEndpoint ep = endpoint_from_sockaddr(n->ai_addr, socklen_t(n->ai_addrlen));
    if (ep.empty()) continue;
    ep.sa.sin6_port = htons(q->port);
    if (std::find(out.begin(), out.end(), ep) == out.end()) out.push_back(ep);
  }
  if (out.empty())
    return m->deliver(std::move(q->done),
                      Status::error("the name has no IPv4 or IPv6 address (asked " + m->server_list + ")"));
  m->deliver(std::move(q->done), std::move(out));
}

AresResolver::AresResolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AresResolver::~AresResolver() = default;

Result<std::unique_ptr<AresResolver>> AresResolver::create(asio::io_context& io, const std::vector<IpPrefix>& servers,
                                                           uint32_t fwmark, uint16_t dns_port) {
  if (servers.empty())
    return Status::error("no name server to resolve endpoint host names with: resolv.conf named none when zeqvpnd "
                         "started; list some in dns.endpoint_resolvers, e.g. [192.0.2.53]");
  if (Status s = init_library(); !s) return s;
  auto impl = std::make_unique<Impl>(io, fwmark);
  ares_options opts{};
  // The name as written (no search domains, no HOSTALIASES); the hosts file,
  // then DNS; and not the system's resolv.conf, which may point into the
  // tunnel by now: the servers are set below.
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  opts.lookups = const_cast<char*>("fb");
  opts.timeout = TIMEOUT_MS;
  opts.tries = TRIES;
  opts.sock_state_cb = &Impl::on_sock_state;
  opts.sock_state_cb_data = impl.get();
  opts.resolvconf_path = const_cast<char*>("/dev/null");
  const int mask = ARES_OPT_FLAGS | ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
                   ARES_OPT_RESOLVCONF;
  if (int rc = ares_init_options(&impl->channel, &opts, mask); rc != ARES_SUCCESS)
    return Status::error(std::string("c-ares: starting a resolver failed: ") + ares_strerror(rc));
  ares_set_socket_callback(impl->channel, &Impl::on_socket_created, impl.get());

  std::vector<ares_addr_port_node> nodes(servers.size());
  for (size_t i = 0; i < servers.size(); ++i) {
    nodes[i].family = servers[i].family == 4 ? AF_INET : AF_INET6;
    if (servers[i].family == 4) std::memcpy(&nodes[i].addr.addr4, servers[i].addr.data(), 4);
    else std::memcpy(&nodes[i].addr.addr6, servers[i].addr.data(), 16);
    nodes[i].udp_port = nodes[i].tcp_port = dns_port;
    nodes[i].next = i + 1 < servers.size() ? &nodes[i + 1] : nullptr;
    impl->server_list += (i ? ", " : "") + servers[i].address();
  }
  if (int rc = ares_set_servers_ports(impl->channel, nodes.data()); rc != ARES_SUCCESS)
    return Status::error(std::string("c-ares: setting the name servers failed: ") + ares_strerror(rc));
  return std::unique_ptr<AresResolver>(new AresResolver(std::move(impl)));
}

void AresResolver::resolve(const std::string& host, uint16_t port, Done done) {
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  auto* q = new Impl::Query{impl_.get(), port, std::move(done)};
  // The callback may run inside this call (a hosts-file answer, an early
  // failure); it posts the answer either way. c-ares orders the addresses
  // as getaddrinfo does (RFC 6724), probing routes with connect() on UDP
  // sockets of its own, which sends nothing.
  ares_getaddrinfo(impl_->channel, host.c_str(), nullptr, &hints, &Impl::on_addrinfo, q);
  impl_->schedule_timeout();
}

std::string AresResolver::servers() const { return impl_->server_list; }

}  // namespace zeq
