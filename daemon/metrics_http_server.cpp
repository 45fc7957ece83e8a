#include "daemon/metrics_http_server.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <list>
#include <optional>
#include <sstream>

namespace zeq {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// The next two are also in enrollment_service.cpp: Boost.Asio stays out of headers
// (tests/layering), so each of the daemon's two TCP listeners keeps a copy.
// A listen address as config keeps it (UdpEndpoint: IPv6, or v4-mapped).
boost::asio::ip::tcp::endpoint tcp_endpoint(const UdpEndpoint& address) {
  namespace ip = boost::asio::ip;
  const auto* a = reinterpret_cast<const uint8_t*>(&address.sa.sin6_addr);
  const uint16_t port = ntohs(address.sa.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&address.sa.sin6_addr)) {
    ip::address_v4::bytes_type v4;
    std::memcpy(v4.data(), a + 12, 4);
    return {ip::address_v4(v4), port};
  }
  ip::address_v6::bytes_type v6;
  std::memcpy(v6.data(), a, 16);
  return {ip::address_v6(v6, address.sa.sin6_scope_id), port};
}

// Accepts connections one after another for `owner` (its acceptor, a
// retry timer, a stopped flag and admit(socket)), until it stops. After a
// failed accept (out of file descriptors, say) it waits 1 s: trying again at
// once would spin.
template <class Owner>
void accept_connections(std::shared_ptr<Owner> owner, const char* what) {
  owner->acceptor.async_accept([owner, what](boost::system::error_code ec, boost::asio::ip::tcp::socket sock) {
    if (owner->stopped || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("{}: accepting a connection failed: {}; trying again in 1 s", what, ec.message());
      owner->retry.expires_after(std::chrono::seconds(1));
      owner->retry.async_wait([owner, what](boost::system::error_code wait) {
        if (!wait && !owner->stopped) accept_connections(owner, what);
      });
      return;
    }
    owner->admit(std::move(sock));
    accept_connections(owner, what);
  });
}

using Request = http::request<http::empty_body>;
using RequestParser = http::request_parser<http::empty_body>;
using Response = http::response<http::string_body>;

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

constexpr char METRICS_PATH[] = "/metrics";
// The Prometheus text exposition format, as Prometheus asks for it.
constexpr char METRICS_CONTENT_TYPE[] = "text/plain; version=0.0.4; charset=utf-8";
// After an answer that closes the connection, what the client still sends
// is read and dropped for this long (up to DRAIN_BYTES), so that closing a
// socket with unread input does not reset the connection before the
// client has read the answer.
constexpr std::chrono::seconds DRAIN_TIME{1};
constexpr size_t DRAIN_BYTES = 65536;

// The read buffer holds a request's header and what a client pipelined
// behind it; a header longer than the limit is refused by the parser first.
size_t buffer_limit(size_t max_header_bytes) { return max_header_bytes + 4096; }

void configure(RequestParser& parser, size_t max_header_bytes) {
  parser.header_limit(uint32_t(std::min<size_t>(max_header_bytes, UINT32_MAX)));
  parser.body_limit(uint64_t(0));  // a scrape has no body; any body is refused
}

// Beast 1.74 holds the request line and the header fields to its limit
// each on its own, and how much it lets through depends on how the bytes
// arrived; a request it read whole is held to the limit here, counting
// every byte it took (there is no body).
error_code over_limit(error_code ec, size_t used, size_t max_header_bytes) {
  if (!ec && used > max_header_bytes) return http::error::header_limit;
  return ec;
}

Response response(http::status status, unsigned version, bool keep_alive, std::string body,
                  const char* content_type = "text/plain; charset=utf-8") {
  Response r{status, version};
  r.set(http::field::server, "zeqvpnd");
  r.set(http::field::content_type, content_type);
  r.set(http::field::cache_control, "no-store");
  r.body() = std::move(body);
  r.keep_alive(keep_alive);
  r.prepare_payload();
  return r;
}

// The answer to a complete request: the metrics for GET /metrics (a query
// string is ignored: Prometheus may add its scrape parameters), 404 for
// any other path, 405 for another method on /metrics.
Response answer_request(const Request& req, const MetricsHttpServer::Render& render) {
  const std::string_view target = view(req.target());
  const std::string_view path = target.substr(0, target.find('?'));
  const unsigned version = req.version();  // 10 or 11: Beast refuses the rest (bad_version, 400)
  if (path != METRICS_PATH)
    return response(http::status::not_found, version, req.keep_alive(), "not found: zeqvpnd serves only /metrics\n");
  if (req.method() != http::verb::get) {
    Response r = response(http::status::method_not_allowed, version, req.keep_alive(),
                          "method not allowed: /metrics answers GET only\n");
    r.set(http::field::allow, "GET");
    return r;
  }
  return response(http::status::ok, version, req.keep_alive(), render(), METRICS_CONTENT_TYPE);
}

Response answer(const Request& req, const MetricsHttpServer::Render& render) {
  Response r = answer_request(req, render);
  if (req.method() == http::verb::head) {  // whose client reads no body
    r.body().clear();
    r.prepare_payload();
  }
  return r;
}

// The answer to a request that could not be read, closing the connection;
// nullopt when there is no one to answer (the client closed between
// requests, a time-out, a socket error).
std::optional<Response> error_answer(const error_code& ec, size_t max_header_bytes) {
  if (ec.category() != http::make_error_code(http::error::end_of_stream).category()) return std::nullopt;
  switch (http::error(ec.value())) {
    case http::error::end_of_stream:
      return std::nullopt;
    case http::error::header_limit:
    case http::error::buffer_overflow:
      return response(http::status::request_header_fields_too_large, 11, false,
                      "request header fields too large: at most " + std::to_string(max_header_bytes) + " bytes\n");
    case http::error::body_limit:
    case http::error::unexpected_body:
      return response(http::status::payload_too_large, 11, false, "a request to zeqvpnd's metrics has no body\n");
    default:
      return response(http::status::bad_request, 11, false, "bad request: " + ec.message() + "\n");
  }
}

void count(MetricsHttpCounters& c, http::status status) {
  switch (status) {
    case http::status::ok: ++c.scrapes; break;
    case http::status::not_found:
    case http::status::method_not_allowed: ++c.refused; break;
    default: ++c.bad_requests; break;  // 400, 413, 431
  }
}

UdpEndpoint udp_endpoint(const tcp::endpoint& ep) {
  return endpoint_from_sockaddr(ep.data(), socklen_t(ep.size()));
}

std::string shown(const tcp::endpoint& ep) { return udp_endpoint(ep).to_string(); }

// What to do about a listen address that cannot be bound.
std::string bind_fix(const error_code& ec, const tcp::endpoint& ep) {
  if (ec == asio::error::address_in_use) return "address already in use; stop the other process or choose another port";
  if (ec == asio::error::access_denied)
    return "permission denied; ports below 1024 need a privilege zeqvpnd does not have, choose one from 1024 up "
           "(9586 is the usual)";
  if (ec == asio::error::address_family_not_supported)
    return std::string(ep.address().is_v6() ? "IPv6" : "IPv4") + " is not available on this host; use an address of "
           "the other family (127.0.0.1 or [::1])";
  if (ec.value() == EADDRNOTAVAIL)
    return "no interface of this host has that address; use one of its addresses, like 127.0.0.1 or [::1]";
  return ec.message() + "; check the address, or choose another";
}

// The bytes of a request as a synchronous stream for Beast's http::read,
// handed out at most `chunk` at a time, then end of file: what a client
// that sends them and shuts its sending side down looks like.
class ByteStream {
 public:
  ByteStream(std::string_view bytes, size_t chunk) : rest_(bytes), chunk_(chunk ? chunk : bytes.size() + 1) {}
  template <typename MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, error_code& ec) {
    if (rest_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    const size_t n = asio::buffer_copy(buffers, asio::buffer(rest_.data(), std::min(rest_.size(), chunk_)));
    rest_.remove_prefix(n);
    return n;
  }
  template <typename MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view rest_;
  size_t chunk_;
};

std::string serialized(const Response& r) {
  std::ostringstream out;
  out << r;
  return out.str();
}

}  // namespace

MetricsHttpExchange metrics_http_exchange(std::string_view bytes, const MetricsHttpServer::Render& render,
                                          size_t max_header_bytes, size_t chunk) {
  MetricsHttpExchange ex;
  ByteStream stream(bytes, chunk);
  beast::flat_buffer buffer(buffer_limit(max_header_bytes));
  for (;;) {
    RequestParser parser;
    configure(parser, max_header_bytes);
    error_code ec;
    const size_t used = http::read(stream, buffer, parser, ec);
    ec = over_limit(ec, used, max_header_bytes);
    if (ec) {
      if (auto r = error_answer(ec, max_header_bytes)) {
        ex.statuses.push_back(int(r->result()));
        ex.written += serialized(*r);
        ex.closed_by_server = true;
      }
      return ex;
    }
    Response r = answer(parser.get(), render);
    ex.statuses.push_back(int(r.result()));
    ex.written += serialized(r);
    if (!r.keep_alive()) {
      ex.closed_by_server = true;
      return ex;
    }
  }
}

struct MetricsHttpServer::Impl : std::enable_shared_from_this<MetricsHttpServer::Impl> {
  Impl(asio::io_context& io, Render r, Limits l) : acceptor(io), retry(io), render(std::move(r)), limits(l) {}

  struct Session;
  using Slots = std::list<Session*>;

  struct Session : std::enable_shared_from_this<Session> {
    Session(std::shared_ptr<Impl> s, tcp::socket sock, tcp::endpoint from)
        : server(std::move(s)), stream(std::move(sock)), buffer(buffer_limit(server->limits.max_header_bytes)),
          peer(shown(from)) {}
    ~Session() { server->release(*this); }

    std::shared_ptr<Impl> server;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<RequestParser> parser;
    Response out;
    std::string peer;
    std::array<char, 4096> drain{};
    size_t drained = 0;
    std::optional<Slots::iterator> slot;  // while it holds one

    // The first request must be complete within request_timeout of the
    // connection; later ones within request_timeout of their first byte,
    // after at most idle_timeout of waiting for it.
    void next_request(bool first) {
      if (first || buffer.size() > 0) return read_request();
      stream.expires_after(server->limits.idle_timeout);
      stream.async_read_some(buffer.prepare(512), [self = shared_from_this()](error_code ec, size_t n) {
        if (ec) return self->failed(ec, "idle for");
        self->buffer.commit(n);
        self->read_request();
      });
    }

    void read_request() {
      parser.emplace();
      configure(*parser, server->limits.max_header_bytes);
      stream.expires_after(server->limits.request_timeout);
      http::async_read(stream, buffer, *parser, [self = shared_from_this()](error_code ec, size_t used) {
        if (self->server->stopped) return;
        ec = over_limit(ec, used, self->server->limits.max_header_bytes);
        if (ec) {
          auto r = error_answer(ec, self->server->limits.max_header_bytes);
          if (!r) return self->failed(ec, "no complete request within");
          spdlog::debug("metrics: {} from {}: {}", int(r->result()), self->peer, ec.message());
          return self->write(std::move(*r));
        }
        const Request& req = self->parser->get();
        Response r = answer(req, [&] { return self->server->text(); });
        // The target as the client sent it (Beast admits no control
        // characters in it), cut short: it may be kilobytes long.
        spdlog::debug("metrics: {} {} from {}: {}, {} bytes", view(req.method_string()).substr(0, 16),
                      view(req.target()).substr(0, 64), self->peer, int(r.result()), r.body().size());
        self->write(std::move(r));
      });
    }

    void write(Response r) {
      count(server->counters, r.result());
      out = std::move(r);
      stream.expires_after(server->limits.request_timeout);
      http::async_write(stream, out, [self = shared_from_this()](error_code ec, size_t) {
        if (self->server->stopped) return;
        if (ec) return self->failed(ec, "answer not read within");
        if (self->out.keep_alive()) return self->next_request(false);
        self->finish();
      });
    }

    // An answer that closes the connection went out: no more to send, and
    // what the client still sends is dropped for a moment before closing.
    void finish() {
      error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream.expires_after(DRAIN_TIME);
      drain_input();
    }
    void drain_input() {
      stream.async_read_some(asio::buffer(drain), [self = shared_from_this()](error_code ec, size_t n) {
        self->drained += n;
        if (ec || self->drained >= DRAIN_BYTES || self->server->stopped) return self->close();
        self->drain_input();
      });
    }

    void failed(const error_code& ec, const char* what) {
      if (ec == beast::error::timeout) {
        ++server->counters.timed_out;
        const auto limit = std::string_view(what) == std::string_view("idle for") ? server->limits.idle_timeout
                                                                                   : server->limits.request_timeout;
        spdlog::debug("metrics: closed the connection from {}: {} {} ms", peer, what, limit.count());
      }
      close();
    }

    // Frees the slot at once, not when the last handler lets go.
    void close() {
      server->release(*this);
      stream.close();  // cancels its timer and any operation, whose handlers then close nothing more
    }
  };

  void accept() { accept_connections(shared_from_this(), "metrics"); }

  void admit(tcp::socket sock) {
    error_code ec;
    tcp::endpoint from = sock.remote_endpoint(ec);
    if (ec) return;  // gone already
    if (int(slots.size()) >= limits.max_connections) {
      ++counters.refused_busy;
      spdlog::warn("metrics: {} connections open; closed another from {} at once", slots.size(), shown(from));
      sock.close(ec);
      return;
    }
    auto session = std::make_shared<Session>(shared_from_this(), std::move(sock), from);
    session->slot = slots.insert(slots.end(), session.get());
    ++counters.accepted;
    session->next_request(true);
  }

  // The text, rendered anew when the last rendering is older than
  // min_render_interval.
  std::string text() {
    const auto now = std::chrono::steady_clock::now();
    if (rendered_at && now - *rendered_at < limits.min_render_interval) return rendered;
    rendered = render();
    rendered_at = now;
    ++counters.renders;
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - now);
    spdlog::debug("metrics: rendered {} bytes in {} µs", rendered.size(), took.count());
    return rendered;
  }

  void release(Session& s) {
    if (!s.slot) return;
    slots.erase(*s.slot);
    s.slot.reset();
  }

  void stop() {
    stopped = true;
    error_code ec;
    acceptor.close(ec);
    retry.cancel();
    const Slots open = slots;  // close() edits the list
    for (Session* s : open) s->close();
  }

  tcp::acceptor acceptor;
  asio::steady_timer retry;
  Render render;
  Limits limits;
  std::string rendered;  // the last text, and when it was made
  std::optional<std::chrono::steady_clock::time_point> rendered_at;
  MetricsHttpCounters counters;
  Slots slots;  // oldest first
  bool stopped = false;
};

MetricsHttpServer::MetricsHttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsHttpServer::~MetricsHttpServer() { impl_->stop(); }

UdpEndpoint MetricsHttpServer::local_endpoint() const {
  error_code ec;
  tcp::endpoint ep = impl_->acceptor.local_endpoint(ec);
  return ec ? UdpEndpoint{} : udp_endpoint(ep);
}

MetricsHttpCounters MetricsHttpServer::counters() const { return impl_->counters; }
int MetricsHttpServer::open_connections() const { return int(impl_->slots.size()); }

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::listen(asio::io_context& io, const UdpEndpoint& address,
                                                                     Render render) {
  return listen(io, address, std::move(render), Limits{});
}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::listen(asio::io_context& io, const UdpEndpoint& address,
                                                                     Render render, Limits limits) {
  const tcp::endpoint ep = tcp_endpoint(address);
  auto impl = std::make_shared<Impl>(io, std::move(render), limits);
  error_code ec;
  impl->acceptor.open(ep.protocol(), ec);
  // A restarted zeqvpnd binds again at once, whatever its last connections'
  // TIME_WAIT; a listener that is really there still makes bind fail.
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::error("metrics.listen " + address.to_string() + ": " + bind_fix(ec, ep));
  impl->accept();
  const std::string where = shown(impl->acceptor.local_endpoint(ec));
  if (ep.address().is_loopback())
    spdlog::info("metrics: serving Prometheus text on http://{}/metrics", where);
  else
    spdlog::warn("metrics: serving Prometheus text on http://{}/metrics, which is not a loopback address: the "
                 "endpoint is unauthenticated and shows peer names and traffic; keep it behind a firewall", where);
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(std::move(impl)));
}

}  // namespace zeq
