#include <utility>  // before Boost.Asio (ARCHITECTURE.md: Boost 1.74 with GCC 12)

#include "directory/etcd_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "crypto/secret_bytes.hpp"
#include "directory/etcd_json.hpp"

namespace zeq {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// ---------------------------------------------------------------- endpoints

Result<EtcdEndpoint> parse_etcd_endpoint(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return Status::error("etcd endpoint '" + std::string(url) + "' " + why +
                         "; write it as http://HOST:PORT or https://HOST:PORT (e.g. https://10.0.0.1:2379)");
  };
  EtcdEndpoint ep;
  ep.url = std::string(url);
  std::string_view rest = url;
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
    ep.tls = true;
  } else {
    return bad("does not start with http:// or https://");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@ \t") != std::string_view::npos) return bad("has a path, query, user or space");
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("has an IPv6 address without its closing ']'");
    ep.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("has something other than :PORT after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("has an empty port");
    }
    error_code ec;
    auto addr = asio::ip::make_address(ep.host, ec);
    if (ec || !addr.is_v6()) return bad("has a bracketed host that is not an IPv6 address");
  } else {
    size_t colon = rest.find(':');
    ep.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return bad("has an empty port");
    }
  }
  if (ep.host.empty()) return bad("has no host");
  for (char c : ep.host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_'))
      return bad("has a character a host name cannot have");
  if (!port_text.empty()) {
    unsigned long port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) return bad("has a port that is not a number from 1 to 65535");
      port = port * 10 + unsigned(c - '0');
    }
    if (port == 0 || port > 65535) return bad("has a port that is not a number from 1 to 65535");
    ep.port = uint16_t(port);
  }
  return ep;
}

// ---------------------------------------------------------------- TLS

class EtcdTlsContext {
 public:
  EtcdTlsContext() : ctx(asio::ssl::context::tls_client) {}
  asio::ssl::context ctx;
};

namespace {

// A file the process cannot read, named with the reason and the setting.
Status unreadable(const char* setting, const std::string& path, const char* what) {
  return Status::error("cannot read etcd " + std::string(setting) + " '" + path + "': " + std::strerror(errno) +
                       "; point " + setting + " at " + what + " that zeqvpnd can read");
}

bool readable(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return f.good();
}

}  // namespace

Result<std::shared_ptr<EtcdTlsContext>> make_etcd_tls_context(const std::string& ca_file,
                                                              const std::string& cert_file,
                                                              const std::string& key_file) {
  if (cert_file.empty() != key_file.empty())
    return Status::error(std::string("etcd TLS client ") + (cert_file.empty() ? "key_file is set without cert_file"
                                                                              : "cert_file is set without key_file") +
                         "; set both (a client certificate and its key) or neither");
  auto tls = std::make_shared<EtcdTlsContext>();
  auto& ctx = tls->ctx;
  error_code ec;
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                  ec);
  ctx.set_verify_mode(asio::ssl::verify_peer, ec);
  if (ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
  } else {
    if (!readable(ca_file)) return unreadable("ca_file", ca_file, "the PEM file of the CA that signed etcd's certificate");
    ctx.load_verify_file(ca_file, ec);
    if (ec)
      return Status::error("etcd ca_file '" + ca_file + "' holds no PEM certificate (" + ec.message() +
                           "); point ca_file at the PEM file of the CA that signed etcd's certificate");
  }
  if (!cert_file.empty()) {
    if (!readable(cert_file)) return unreadable("cert_file", cert_file, "the PEM client certificate");
    if (!readable(key_file)) return unreadable("key_file", key_file, "the PEM key of the client certificate");
    ctx.use_certificate_chain_file(cert_file, ec);
    if (ec)
      return Status::error("etcd cert_file '" + cert_file + "' holds no PEM certificate (" + ec.message() +
                           "); point cert_file at the PEM client certificate");
    ctx.use_private_key_file(key_file, asio::ssl::context::pem, ec);
    if (ec)
      return Status::error("etcd key_file '" + key_file + "' is not the PEM key of cert_file '" + cert_file + "' (" +
                           ec.message() + "); point key_file at the key the client certificate was made for");
  }
  return tls;
}

// ---------------------------------------------------------------- client

namespace {

// What a failed I/O step says, for people.
std::string describe(const error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  if (ec == asio::error::timed_out)  // TCP_USER_TIMEOUT (set_dead_path_timeout)
    return "the connection is dead (nothing sent on it was acknowledged: the network path to etcd is gone)";
  if (ec.category() == asio::error::get_ssl_category()) {
    std::string m = "TLS: " + ec.message();
    if (m.find("alert") != std::string::npos && m.find("certificate") != std::string::npos)
      m += " (etcd refused this client's certificate: set cert_file and key_file to one its trusted CA signed)";
    return m;
  }
  if (ec == http::error::body_limit) return "answer too large";
  if (ec == http::error::header_limit) return "answer header too large";
  return ec.message();
}

// TCP keep-alive probes after 10 s of silence, 3 at 5 s: the watch is
// silent while nothing changes, and a connection whose peer vanished
// without a reset (a host gone, a NAT that forgot it) is noticed in about
// 25 s instead of never.
void keep_alive_probes(tcp::socket& socket) {
  error_code ignored;
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
#if defined(TCP_KEEPIDLE) && defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
  const int fd = socket.native_handle();
  const int idle = 10, interval = 5, count = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
#endif
}

// Whether this host has lost the connection's local address (the host's
// address changed, e.g. it moved to another network): such a connection is
// dead without a word, nothing sent from it leaves and nothing sent to it
// arrives, so it would hold a call until its deadline. A UDP bind to the
// address says so (EADDRNOTAVAIL); anything else (the address is still
// there, a non-local bind allowed, no socket to spare) counts as not lost.
bool lost_local_address(tcp::socket& socket, std::string* address) {
  error_code ec;
  tcp::endpoint local = socket.local_endpoint(ec);
  if (ec) return false;
  local.port(0);
  const int fd = ::socket(local.protocol().family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool lost = ::bind(fd, local.data(), socklen_t(local.size())) != 0 && errno == EADDRNOTAVAIL;
  ::close(fd);
  if (lost && address) *address = local.address().to_string();
  return lost;
}

// How often a connection with a call or a stream on it is checked for that.
constexpr std::chrono::milliseconds PATH_CHECK_INTERVAL{250};

// One TCP (and TLS) connection with what an exchange on it needs. Handlers
// hold it by shared_ptr, so that close() can drop it while Beast's composed
// operations still refer to its stream, buffer and parser.
struct Conn {
  Conn(asio::io_context& io, EtcdTlsContext* tls) {
    if (tls) secure.emplace(io, tls->ctx);
    else plain.emplace(io);
  }
  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  template <typename F>
  void with_stream(F&& f) {
    if (secure) f(*secure);
    else f(*plain);
  }
  void shut() {
    error_code ec;
    lowest().socket().close(ec);
  }

  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer{1 << 20};
  http::request<http::string_body> req;
  std::optional<http::response_parser<http::string_body>> unary;
  std::optional<http::response_parser<http::buffer_body>> lines;
  std::array<char, 16384> chunk{};
  std::string line;          // a stream line not yet complete
  std::string error_body;    // a non-200 stream answer
  unsigned uses = 0;         // exchanges completed on it
  bool open = false;
};

struct Job {
  bool is_stream = false;
  std::string path, body;
  size_t max = 0;
  bool wipe = false;
  bool retried = false;
  EtcdClient::Done done;
  EtcdClient::OnLine on_line;
  EtcdClient::StreamDone stream_done;
};

}  // namespace

struct EtcdClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_, std::vector<EtcdEndpoint> eps, std::shared_ptr<EtcdTlsContext> tls_,
       std::chrono::milliseconds timeout_)
      : io(io_),
        endpoints(std::move(eps)),
        tls(std::move(tls_)),
        timeout(timeout_),
        resolver(io_),
        resolve_timer(io_),
        path_timer(io_) {}
  ~Impl() { secure_wipe(token.data(), token.capacity()); }

  asio::io_context& io;
  std::vector<EtcdEndpoint> endpoints;
  std::shared_ptr<EtcdTlsContext> tls;
  std::chrono::milliseconds timeout;
  std::chrono::milliseconds dead_path_timeout{0};  // TCP_USER_TIMEOUT; 0: the kernel's
  std::string token;
  size_t current = 0;
  bool alive = true;  // the EtcdClient exists: callbacks may run

  tcp::resolver resolver;
  asio::steady_timer resolve_timer;
  asio::steady_timer path_timer;  // checks the local address while a job runs
  bool path_timer_armed = false;
  std::shared_ptr<Conn> conn;
  std::deque<Job> queue;
  std::optional<Job> active;
  uint64_t gen = 0;  // bumped when a job starts or close() drops everything
  std::chrono::steady_clock::time_point deadline;

  const EtcdEndpoint& ep() const { return endpoints[current]; }
  std::string where() const { return "etcd at " + ep().url; }

  void enqueue(Job job) {
    queue.push_back(std::move(job));
    pump();
  }

  void pump() {
    if (active || queue.empty()) return;
    active.emplace(std::move(queue.front()));
    queue.pop_front();
    ++gen;
    deadline = std::chrono::steady_clock::now() + timeout;
    check_path_soon();
    if (conn && conn->open) {
      // A kept connection from an address this host no longer has is dead:
      // said at once rather than after the deadline (and the caller's other
      // connections from that address are dead too).
      if (std::string address; lost_local_address(conn->lowest().socket(), &address)) return fail(lost_address(address));
      return send();
    }
    connect();
  }

  static std::string lost_address(const std::string& address) {
    return "this host no longer has the connection's address " + address +
           " (its address changed): the connection is dead";
  }

  // While a job runs (a call, or a stream for as long as it lasts), its
  // connection is checked every PATH_CHECK_INTERVAL for the loss of its
  // local address: an answer on its way when the address went never comes.
  void check_path_soon() {
    if (path_timer_armed) return;
    path_timer_armed = true;
    path_timer.expires_after(PATH_CHECK_INTERVAL);
    path_timer.async_wait([self = shared_from_this()](error_code e) {
      if (e) return;  // canceled by close(), which disarmed it
      self->path_timer_armed = false;
      if (!self->alive || !self->active) return;
      std::string address;
      if (self->conn && self->conn->open && lost_local_address(self->conn->lowest().socket(), &address))
        return self->fail(lost_address(address));
      self->check_path_soon();
    });
  }

  void drop_conn() {
    if (conn) conn->shut();
    conn.reset();
  }

  // Hands the outcome of the active job to its callback (posted).
  void finish_unary(Result<EtcdReply> r) {
    Job job = std::move(*active);
    active.reset();
    if (job.wipe) secure_wipe(job.body.data(), job.body.capacity());
    ++gen;
    post_done(std::move(job), std::move(r));
    pump();
  }
  void finish_stream(Status s) {
    Job job = std::move(*active);
    active.reset();
    if (job.wipe) secure_wipe(job.body.data(), job.body.capacity());
    ++gen;
    drop_conn();  // a stream's connection is not reused
    post_stream_done(std::move(job), std::move(s));
    pump();
  }
  void fail(const std::string& why) {
    drop_conn();
    if (active->is_stream) finish_stream(Status::error(where() + ": " + why));
    else finish_unary(Status::error(where() + ": " + why));
  }

  void post_done(Job job, Result<EtcdReply> r) {
    asio::post(io, [self = shared_from_this(), done = std::move(job.done), r = std::move(r)]() mutable {
      if (self->alive && done) done(std::move(r));
    });
  }
  void post_stream_done(Job job, Status s) {
    asio::post(io, [self = shared_from_this(), done = std::move(job.stream_done), s = std::move(s)]() mutable {
      if (self->alive && done) done(std::move(s));
    });
  }

  void close() {
    ++gen;
    resolver.cancel();
    resolve_timer.cancel();
    path_timer.cancel();
    path_timer_armed = false;
    drop_conn();
    std::deque<Job> jobs;
    if (active) jobs.push_back(std::move(*active));
    active.reset();
    for (auto& j : queue) jobs.push_back(std::move(j));
    queue.clear();
    for (auto& j : jobs) {
      if (j.wipe) secure_wipe(j.body.data(), j.body.capacity());
      Status closed = Status::error(where() + ": connection closed");
      if (j.is_stream) post_stream_done(std::move(j), closed);
      else post_done(std::move(j), closed);
    }
  }

  // ---- connecting

  void connect() {
    drop_conn();
    if (ep().tls && !tls) return fail("https endpoint without a TLS context");
    conn = std::make_shared<Conn>(io, ep().tls ? tls.get() : nullptr);
    error_code ec;
    auto addr = asio::ip::make_address(ep().host, ec);
    if (!ec) {
      std::vector<tcp::endpoint> targets{tcp::endpoint(addr, ep().port)};
      return connect_to(std::move(targets));
    }
    // A host name: resolved with the call's deadline too.
    resolve_timer.expires_at(deadline);
    resolve_timer.async_wait([self = shared_from_this(), g = gen](error_code e) {
      if (!e && g == self->gen) self->resolver.cancel();
    });
    resolver.async_resolve(ep().host, std::to_string(ep().port),
                           [self = shared_from_this(), g = gen](error_code e, tcp::resolver::results_type results) {
                             if (g != self->gen) return;
                             self->resolve_timer.cancel();
                             if (e) {
                               return self->fail("cannot resolve " + self->ep().host + ": " +
                                                 (e == asio::error::operation_aborted ? "timed out" : e.message()));
                             }
                             std::vector<tcp::endpoint> targets;
                             for (const auto& r : results) targets.push_back(r.endpoint());
                             self->connect_to(std::move(targets));
                           });
  }

  void connect_to(std::vector<tcp::endpoint> targets) {
    auto c = conn;
    c->lowest().expires_at(deadline);
    c->lowest().async_connect(targets, [self = shared_from_this(), c, g = gen](error_code e, const tcp::endpoint&) {
      if (g != self->gen) return;
      if (e) return self->fail("cannot connect: " + describe(e));
      error_code ignored;
      c->lowest().socket().set_option(tcp::no_delay(true), ignored);
      keep_alive_probes(c->lowest().socket());
      self->dead_path_after(c->lowest().socket());
      if (!c->secure) {
        c->open = true;
        return self->send();
      }
      self->handshake(c);
    });
  }

  void handshake(const std::shared_ptr<Conn>& c) {
    const std::string& host = ep().host;
    error_code ec;
    (void)asio::ip::make_address(host, ec);
    const bool is_ip = !ec;
    // SNI for names (RFC 6066 has none for addresses); the certificate must
    // name the host or carry the IP address either way.
    if (!is_ip) SSL_set_tlsext_host_name(c->secure->native_handle(), host.c_str());
    c->secure->set_verify_callback(asio::ssl::host_name_verification(host), ec);
    c->secure->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this(), c, g = gen](error_code e) {
      if (g != self->gen) return;
      if (e) {
        return self->fail("TLS handshake failed: " + describe(e) +
                          "; check that etcd's certificate is signed by the CA of ca_file and names " +
                          self->ep().host);
      }
      c->open = true;
      self->send();
    });
  }

  // What was sent and not acknowledged for dead_path_timeout ends the
  // connection (ETIMEDOUT), whatever the call's deadline: the network path
  // is gone (a route, the peer host), not etcd slow to answer (the kernel
  // acknowledges a request at once however long etcd takes over it). With
  // the keep-alive probes, it also ends a silent stream whose path went.
  void dead_path_after(tcp::socket& socket) const {
#if defined(TCP_USER_TIMEOUT)
    if (dead_path_timeout.count() <= 0) return;
    const unsigned ms = unsigned(dead_path_timeout.count());
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms);
#else
    (void)socket;
#endif
  }

  // ---- one exchange

  void send() {
    auto c = conn;
    Job& job = *active;
    c->req = {};
    c->req.method(http::verb::post);
    c->req.target(job.path);
    c->req.version(11);
    const bool v6 = ep().host.find(':') != std::string::npos;
    c->req.set(http::field::host, (v6 ? "[" + ep().host + "]" : ep().host) + ":" + std::to_string(ep().port));
    c->req.set(http::field::content_type, "application/json");
    if (!token.empty()) c->req.set(http::field::authorization, token);
    c->req.keep_alive(true);
    c->req.body() = job.body;
    c->req.prepare_payload();
    c->lowest().expires_at(deadline);
    c->with_stream([&](auto& s) {
      http::async_write(s, c->req, [self = shared_from_this(), c, g = gen](error_code e, size_t) {
        if (g != self->gen) return;
        Job& j = *self->active;
        if (j.wipe) {
          secure_wipe(c->req.body().data(), c->req.body().capacity());
          c->req.body().clear();
        }
        if (e) return self->retry_or_fail(c, "cannot send: " + describe(e), e);
        if (j.is_stream) self->read_stream_header(c);
        else self->read_unary(c);
      });
    });
  }

  // A keep-alive connection the server closed while idle fails the first
  // write or read; that one is retried once on a new connection.
  void retry_or_fail(const std::shared_ptr<Conn>& c, const std::string& why, const error_code& e) {
    const bool stale = e == http::error::end_of_stream || e == asio::error::eof ||
                       e == asio::error::connection_reset || e == asio::error::broken_pipe;
    if (c->uses > 0 && stale && !active->retried && std::chrono::steady_clock::now() < deadline) {
      active->retried = true;
      ++gen;
      return connect();
    }
    fail(why);
  }

  void read_unary(const std::shared_ptr<Conn>& c) {
    c->unary.emplace();
    c->unary->body_limit(active->max);
    c->unary->header_limit(16 * 1024);
    // The header first: Beast 1.74 forgets a Content-Length over the body
    // limit when it parses header and body in one go (eager), as async_read does.
    c->with_stream([&](auto& s) {
      http::async_read_header(s, c->buffer, *c->unary, [self = shared_from_this(), c, g = gen](error_code e, size_t) {
        if (g != self->gen) return;
        const auto length = e ? boost::none : c->unary->content_length();
        if (e == http::error::body_limit || (length && *length > self->active->max))
          return self->fail("answer over " + std::to_string(self->active->max) + " bytes");
        if (e) return self->retry_or_fail(c, "no answer: " + describe(e), e);
        self->read_unary_body(c);
      });
    });
  }

  void read_unary_body(const std::shared_ptr<Conn>& c) {
    c->with_stream([&](auto& s) {
      http::async_read(s, c->buffer, *c->unary, [self = shared_from_this(), c, g = gen](error_code e, size_t) {
        if (g != self->gen) return;
        if (e == http::error::body_limit)
          return self->fail("answer over " + std::to_string(self->active->max) + " bytes");
        if (e) return self->fail("answer broke off: " + describe(e));
        auto msg = c->unary->release();
        ++c->uses;
        EtcdReply reply{msg.result_int(), std::move(msg.body())};
        if (!msg.keep_alive()) self->drop_conn();
        self->finish_unary(std::move(reply));
      });
    });
  }

  void read_stream_header(const std::shared_ptr<Conn>& c) {
    c->lines.emplace();
    c->lines->body_limit(boost::none);  // bounded per line instead
    c->lines->header_limit(16 * 1024);
    c->line.clear();
    c->error_body.clear();
    c->with_stream([&](auto& s) {
      http::async_read_header(s, c->buffer, *c->lines, [self = shared_from_this(), c, g = gen](error_code e, size_t) {
        if (g != self->gen) return;
        if (e) return self->fail("no answer to the stream: " + describe(e));
        // A stream's lines may be minutes apart: the deadline was for getting here.
        if (c->lines->get().result_int() == 200) c->lowest().expires_never();
        self->read_stream_body(c);
      });
    });
  }

  void read_stream_body(const std::shared_ptr<Conn>& c) {
    auto& body = c->lines->get().body();
    body.data = c->chunk.data();
    body.size = c->chunk.size();
    c->with_stream([&](auto& s) {
      http::async_read_some(s, c->buffer, *c->lines, [self = shared_from_this(), c, g = gen](error_code e, size_t) {
        if (g != self->gen) return;
        if (e == http::error::need_buffer) e = {};
        const size_t n = c->chunk.size() - c->lines->get().body().size;
        if (!e || n > 0) {
          if (!self->take(c, std::string_view(c->chunk.data(), n))) return;  // ended (or closed) inside
        }
        if (e) return self->fail("stream broke: " + describe(e));
        if (c->lines->is_done()) return self->end_stream(c);
        self->read_stream_body(c);
      });
    });
  }

  // Splits what arrived into lines for the caller. False when the stream
  // has ended here (the caller said stop, a line was too long, or the
  // caller closed the client from on_line).
  bool take(const std::shared_ptr<Conn>& c, std::string_view data) {
    const unsigned status = c->lines->get().result_int();
    if (status != 200) {
      c->error_body.append(data.substr(0, std::min(data.size(), size_t(64 * 1024) - std::min(c->error_body.size(), size_t(64 * 1024)))));
      return true;
    }
    const uint64_t g = gen;
    while (!data.empty()) {
      size_t nl = data.find('\n');
      std::string_view part = data.substr(0, nl);
      if (c->line.size() + part.size() > active->max) {
        fail("a stream line over " + std::to_string(active->max) + " bytes");
        return false;
      }
      c->line.append(part);
      if (nl == std::string_view::npos) break;
      data.remove_prefix(nl + 1);
      std::string line = std::move(c->line);
      c->line.clear();
      if (line.empty() || line == "\r") continue;
      bool more = active->on_line ? active->on_line(line) : true;
      if (g != gen || !alive) return false;  // closed from inside on_line
      if (!more) {
        finish_stream(Status::ok());
        return false;
      }
    }
    return true;
  }

  void end_stream(const std::shared_ptr<Conn>& c) {
    const unsigned status = c->lines->get().result_int();
    if (status == 200) return finish_stream(Status::ok());
    auto err = etcd::parse_error(c->error_body);
    std::string what = err ? err->message + " (code " + std::to_string(err->code) + ")" : "no etcd error in the answer";
    fail("HTTP " + std::to_string(status) + ": " + what);
  }
};

// ---------------------------------------------------------------- facade

EtcdClient::EtcdClient(asio::io_context& io, std::vector<EtcdEndpoint> endpoints,
                       std::shared_ptr<EtcdTlsContext> tls, std::chrono::milliseconds timeout)
    : impl_(std::make_shared<Impl>(io, std::move(endpoints), std::move(tls), timeout)) {
  if (impl_->endpoints.empty()) throw std::invalid_argument("EtcdClient needs at least one endpoint");
}

EtcdClient::~EtcdClient() {
  impl_->alive = false;
  impl_->close();
}

const EtcdEndpoint& EtcdClient::endpoint() const { return impl_->ep(); }
size_t EtcdClient::endpoint_index() const { return impl_->current; }
size_t EtcdClient::endpoint_count() const { return impl_->endpoints.size(); }

void EtcdClient::use_endpoint(size_t index) {
  index %= impl_->endpoints.size();
  if (index == impl_->current) return;
  impl_->close();
  impl_->current = index;
}

void EtcdClient::failover() {
  impl_->close();
  impl_->current = (impl_->current + 1) % impl_->endpoints.size();
}

void EtcdClient::set_token(std::string token) {
  secure_wipe(impl_->token.data(), impl_->token.capacity());
  impl_->token = std::move(token);
}

void EtcdClient::set_timeout(std::chrono::milliseconds timeout) { impl_->timeout = timeout; }

void EtcdClient::set_dead_path_timeout(std::chrono::milliseconds timeout) { impl_->dead_path_timeout = timeout; }

void EtcdClient::call(std::string path, std::string body, size_t max_body, Done done, bool wipe_body) {
  Job job;
  job.path = std::move(path);
  job.body = std::move(body);
  job.max = max_body;
  job.wipe = wipe_body;
  job.done = std::move(done);
  impl_->enqueue(std::move(job));
}

void EtcdClient::stream(std::string path, std::string body, size_t max_line, OnLine on_line, StreamDone done) {
  Job job;
  job.is_stream = true;
  job.path = std::move(path);
  job.body = std::move(body);
  job.max = max_line;
  job.on_line = std::move(on_line);
  job.stream_done = std::move(done);
  impl_->enqueue(std::move(job));
}

void EtcdClient::close() { impl_->close(); }

}  // namespace zeq
