// The Prometheus scrape endpoint (`metrics.listen`, zeqvpn.yaml(5)): HTTP/1.1
// over TCP, `GET /metrics` answered with the text `zeqvpnctl metrics` prints,
// rendered by the caller's function. Other paths get 404, other methods 405.
//
// It runs on the io_context it is given, which in zeqvpnd is the control
// thread's: the text is made from Node::status() and the other parts the
// control socket reads, which only that thread may touch, so rendering runs
// there whatever thread did the socket work. Rendering costs what
// `zeqvpnctl metrics` costs (about 0.6 ms for a node with one peer, most of
// it reading the firewall's counters through libnftables), so the text is
// rendered at most once per MIN_RENDER_INTERVAL and scrapes within it share
// it: however many clients scrape, the control thread spends at most that
// on them, and handshakes keep their thread. All socket work is
// asynchronous, so a slow or hostile client never holds the thread; the
// data-plane workers are not involved at all.
//
// Bounded like the control socket: a request line and headers of at most
// MAX_HEADER_BYTES and no body, a complete request within REQUEST_TIMEOUT
// of connecting (or of its first byte on a kept-alive connection), an idle
// kept-alive connection closed after IDLE_TIMEOUT, and at most
// MAX_CONNECTIONS open; one more is closed at once. Boost.Asio and Beast
// stay in the .cpp file.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/net_address.hpp"
#include "core/result.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

// What happened to the endpoint's connections and requests since it started.
struct MetricsHttpCounters {
  uint64_t accepted = 0;       // connections admitted
  uint64_t refused_busy = 0;   // closed at once: MAX_CONNECTIONS were open
  uint64_t timed_out = 0;      // no complete request in time, idle too long, or reply not read
  uint64_t scrapes = 0;        // 200 answers
  uint64_t renders = 0;        // times the text was rendered (scrapes within MIN_RENDER_INTERVAL share one)
  uint64_t refused = 0;        // 404 and 405 answers
  uint64_t bad_requests = 0;   // 400, 413 and 431 answers (the connection closed after)
};

class MetricsHttpServer {
 public:
  using Render = std::function<std::string()>;

  // Prometheus scrapes one connection at a time per target; a few more
  // leave room for a person with curl and a second Prometheus.
  static constexpr int MAX_CONNECTIONS = 16;
  // A scrape request is a few hundred bytes.
  static constexpr size_t MAX_HEADER_BYTES = 8192;
  // Prometheus sends its request as soon as it is connected.
  static constexpr std::chrono::seconds REQUEST_TIMEOUT{5};
  // Long enough for a 15 s scrape interval to reuse its connection, short
  // enough that idle connections do not hold the slots for long.
  static constexpr std::chrono::seconds IDLE_TIMEOUT{30};
  // Prometheus scrapes every 15 s or so; two servers of an HA pair, or a
  // person with curl, within a second get the same text.
  static constexpr std::chrono::seconds MIN_RENDER_INTERVAL{1};

  struct Limits {
    int max_connections = MAX_CONNECTIONS;
    size_t max_header_bytes = MAX_HEADER_BYTES;
    std::chrono::milliseconds request_timeout = REQUEST_TIMEOUT;
    std::chrono::milliseconds idle_timeout = IDLE_TIMEOUT;
    std::chrono::milliseconds min_render_interval = MIN_RENDER_INTERVAL;
  };

  // Binds and listens on `address` (port 0: any free port, for tests).
  // Errors name the setting, the address and the fix, e.g.
  // "metrics.listen 127.0.0.1:9586: address already in use; stop the other
  // process or choose another port".
  static Result<std::unique_ptr<MetricsHttpServer>> listen(boost::asio::io_context& io, const UdpEndpoint& address,
                                                           Render render, Limits limits);
  static Result<std::unique_ptr<MetricsHttpServer>> listen(boost::asio::io_context& io, const UdpEndpoint& address,
                                                           Render render);
  // Stops accepting and closes every connection; `render` is not called
  // after this.
  ~MetricsHttpServer();

  // The address it listens on, with the port the system chose for port 0.
  UdpEndpoint local_endpoint() const;
  // On the io_context's thread.
  MetricsHttpCounters counters() const;
  int open_connections() const;

 private:
  struct Impl;
  explicit MetricsHttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// What the server writes back to a client that sent `bytes` and then
// closed its sending side: Beast's reading of requests with the server's
// parser settings, and the server's answers, without a socket (tests and
// the fuzz target). The bytes arrive at most `chunk` at a time (0: all at
// once), as a network may split them.
struct MetricsHttpExchange {
  std::vector<int> statuses;      // one per answer, in order
  std::string written;            // the answers' bytes
  bool closed_by_server = false;  // the last answer closes the connection
};
MetricsHttpExchange metrics_http_exchange(std::string_view bytes, const MetricsHttpServer::Render& render,
                                          size_t max_header_bytes = MetricsHttpServer::MAX_HEADER_BYTES,
                                          size_t chunk = 0);

}  // namespace zeq
