#include "relay/relay_tcp_client.hpp"

#include "relay/stream_bridge.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <set>
#include <thread>

#include "mesh/peer.hpp"
#include "protocol/relay_messages.hpp"

namespace zeq {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

tcp::endpoint tcp_endpoint_of(const UdpEndpoint& ep, uint16_t port) {
  asio::ip::address_v6::bytes_type b;
  std::memcpy(b.data(), &ep.sa.sin6_addr, b.size());
  const asio::ip::address_v6 a6(b, ep.sa.sin6_scope_id);
  if (a6.is_v4_mapped()) return {asio::ip::make_address_v4(asio::ip::v4_mapped, a6), port};
  return {asio::ip::address(a6), port};
}

uint64_t ping_nonce(RandomSource& random) {
  uint64_t v = 0;
  random.fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v));
  return v | 1;
}

std::string to_string(const tcp::endpoint& ep) {
  return ep.address().is_v6() ? "[" + ep.address().to_string() + "]:" + std::to_string(ep.port())
                              : ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

// One connection to a relay. The control thread reads `state` and
// `loopback_port`; everything else is the transport thread's.
struct RelayTcpClient::Connection {
  enum State : int { kConnecting = 0, kUp = 1, kClosed = 2 };
  Connection(asio::io_context& io, tcp::endpoint to) : target(std::move(to)), socket(io), timer(io) {}
  std::atomic<int> state{kConnecting};
  std::atomic<uint16_t> loopback_port{0};
  const tcp::endpoint target;
  tcp::socket socket;
  asio::steady_timer timer;
  std::shared_ptr<StreamBridge> bridge;
};

struct RelayTcpClient::Transport {
  Transport(const RelayTcpClientSettings& s)
      : settings(s), work(asio::make_work_guard(io)) {
    thread = std::thread([this] {
      for (;;) {
        try {
          io.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("relay over TCP: {}", e.what());
        }
      }
    });
  }
  ~Transport() {
    asio::post(io, [this] {
      for (const auto& c : std::vector(live.begin(), live.end())) shut(*c, "node stopping");
      live.clear();
      work.reset();
    });
    thread.join();
  }

  void open(const std::shared_ptr<Connection>& c) {
    asio::post(io, [this, c] {
      live.insert(c);
      error_code ec;
      c->socket.open(c->target.protocol(), ec);
      if (!ec && settings.fwmark) {
        const uint32_t mark = settings.fwmark;
        if (::setsockopt(c->socket.native_handle(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0)
          spdlog::warn("relay over TCP: cannot mark the connection with fwmark 0x{:x} ({}); the kill switch may "
                       "block it", mark, std::strerror(errno));
      }
      if (ec) return failed(c, ec.message().c_str());
      c->timer.expires_after(std::chrono::microseconds(CONNECT_TIMEOUT_US));
      c->timer.async_wait([this, c](const error_code& e) {
        if (!e && c->state == Connection::kConnecting) {
          error_code ignored;
          c->socket.close(ignored);  // the connect completes with operation_aborted
        }
      });
      c->socket.async_connect(c->target, [this, c](const error_code& e) {
        c->timer.cancel();
        if (c->state != Connection::kConnecting) return;
        if (e) return failed(c, e == asio::error::operation_aborted ? "timed out" : e.message().c_str());
        std::string error;
        const int lo = open_loopback_socket(settings.node_port, INADDR_LOOPBACK, error);
        if (lo < 0) return failed(c, ("no loopback socket: " + error).c_str());
        error_code rec;
        const int fd = c->socket.release(rec);
        c->bridge = StreamBridge::start(io, fd, lo, counters, stream_now_us(),
                                        [this, weak = std::weak_ptr<Connection>(c)](const char* why) {
                                          auto conn = weak.lock();
                                          if (!conn) return;
                                          spdlog::info("relay over TCP: connection to {} closed ({})",
                                                       to_string(conn->target), why);
                                          conn->state = Connection::kClosed;
                                          live.erase(conn);
                                        });
        c->loopback_port = c->bridge->loopback_port();
        counters.accepted.fetch_add(1, std::memory_order_relaxed);
        c->state = Connection::kUp;
      });
    });
  }

  void failed(const std::shared_ptr<Connection>& c, const char* why) {
    spdlog::info("relay over TCP: cannot connect to {} ({})", to_string(c->target), why);
    counters.connect_failures.fetch_add(1, std::memory_order_relaxed);
    error_code ignored;
    c->socket.close(ignored);
    c->state = Connection::kClosed;
    live.erase(c);
  }

  void shut(Connection& c, const char* why) {
    c.timer.cancel();
    if (c.bridge) {
      c.bridge->close(why);
    } else {
      error_code ignored;
      c.socket.close(ignored);
      c.state = Connection::kClosed;
    }
  }

  void close(const std::shared_ptr<Connection>& c, const char* why) {
    asio::post(io, [this, c, why] {
      shut(*c, why);
      live.erase(c);
    });
  }

  RelayTcpClientSettings settings;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  TcpTransportCounters counters;
  std::set<std::shared_ptr<Connection>> live;
  std::thread thread;
};

RelayTcpClient::RelayTcpClient(Node& node, const Clock& clock, RandomSource& random, RelayTcpClientSettings settings)
    : node_(node), clock_(clock), random_(random), settings_(settings),
      transport_(std::make_unique<Transport>(settings)) {}

RelayTcpClient::~RelayTcpClient() = default;

const TcpTransportCounters& RelayTcpClient::counters() const { return transport_->counters; }

void RelayTcpClient::tick() {
  const int64_t now = clock_.mono_us();
  // Relays gone (a reload, the directory): their connections go too.
  for (auto it = links_.begin(); it != links_.end();) {
    Peer* relay = node_.peer_by_serial(it->first);
    if (relay && relay->settings.is_relay) {
      ++it;
      continue;
    }
    close_connection(it->second);
    it = links_.erase(it);
  }
  for (Peer* relay : node_.peers()) {
    if (!relay->settings.is_relay) continue;
    Link& l = links_[relay->serial];
    switch (l.mode) {
      case Mode::kUdp: watch_udp(*relay, l, now); break;
      case Mode::kConnecting: watch_connecting(*relay, l, now); break;
      case Mode::kTcp: watch_tcp(*relay, l, now); break;
    }
  }
}

void RelayTcpClient::watch_udp(Peer& relay, Link& l, int64_t now) {
  UdpEndpoint ep = relay.endpoint.load();
  if (!l.shim_ep.empty() && ep == l.shim_ep && !l.udp_ep.empty()) {
    // A message of the closed connection, still queued when it closed,
    // moved the endpoint back to its bridge: the UDP address again.
    relay.endpoint.store(l.udp_ep);
    ep = l.udp_ep;
  }
  if (ep.empty() || relay.admin_down) {
    l.wait.reset();
    return;
  }
  l.udp_ep = ep;
  const int64_t unanswered = update_wait(relay, l, now);
  if (unanswered == 0) return;
  // What went out may want no answer (a keepalive, as after every rekey,
  // when an idle relay is pinged only every 8 Zeqonds): a Ping asks for one,
  // so silence means UDP fails, not that the relay had nothing to say.
  if (relay.current.load(std::memory_order_relaxed) && l.wait.ask_now(now))
    (void)node_.send_control(relay.serial, encode_relay_ping({ping_nonce(random_)}));
  if (unanswered < FALLBACK_AFTER_US || now < l.next_connect_us) return;
  connect(relay, l, now);
}

void RelayTcpClient::connect(Peer& relay, Link& l, int64_t now) {
  const tcp::endpoint to = tcp_endpoint_of(l.udp_ep, settings_.port);
  spdlog::warn("relay {}: no answer over UDP for {} ms; connecting over TCP to {}", relay.label(),
               (now - l.wait.since_us()) / 1000, to_string(to));
  l.conn = std::make_shared<Connection>(transport_->io, to);
  l.mode = Mode::kConnecting;
  l.connect_started_us = now;
  transport_->open(l.conn);
}

void RelayTcpClient::watch_connecting(Peer& relay, Link& l, int64_t now) {
  const int state = l.conn->state.load();
  if (state == Connection::kConnecting) return;
  if (state == Connection::kClosed) {
    ++l.failures;
    l.next_connect_us = now + std::min(BACKOFF_MAX_US, BACKOFF_FIRST_US << std::min(l.failures - 1, 10));
    l.conn.reset();
    l.mode = Mode::kUdp;
    return;
  }
  // Up: the relay's messages go on the stream from now on.
  auto shim = parse_udp_endpoint("127.0.0.1:" + std::to_string(l.conn->loopback_port.load()));
  l.shim_ep = *shim;
  l.mode = Mode::kTcp;
  l.failures = 0;
  l.wait.reset();
  l.probe_us = now;
  ++l.fallbacks;
  ++fallbacks_;
  relay.endpoint.store(l.shim_ep);
  relay.relay_over_tcp.store(true, std::memory_order_relaxed);
  spdlog::warn("relay {}: reached over TCP ({}); UDP is probed every {} ms", relay.label(),
               to_string(l.conn->target), UDP_PROBE_US / 1000);
  // With a session, one message tells the relay where we are now (its
  // answer also proves the way back); without one, a handshake at once.
  if (relay.current.load(std::memory_order_relaxed)) {
    (void)node_.send_control(relay.serial, encode_relay_ping({ping_nonce(random_)}));
  } else {
    node_.handshake_now(relay);
  }
}

void RelayTcpClient::watch_tcp(Peer& relay, Link& l, int64_t now) {
  if (l.conn->state.load() == Connection::kClosed) {
    if (relay.endpoint.load() == l.shim_ep) relay.endpoint.store(l.udp_ep);
    leave_tcp(relay, l, "the connection closed");
    ++l.failures;
    l.next_connect_us = now + BACKOFF_FIRST_US;
    return;
  }
  if (!(relay.endpoint.load() == l.shim_ep)) {
    // An authenticated packet from the relay came by another way: over UDP
    // (the answer to a probe), so UDP works again.
    ++l.returns;
    ++returns_;
    leave_tcp(relay, l, "UDP answers again");
    return;
  }
  // A connection that carries nothing back (a middlebox dropped it without
  // a word) is given up like a failed UDP path, and made again.
  if (update_wait(relay, l, now) >= TCP_SILENT_AFTER_US) {
    relay.endpoint.store(l.udp_ep);
    leave_tcp(relay, l, "nothing came back over TCP");
    return;
  }
  if (!relay.current.load(std::memory_order_relaxed)) return;
  if (now - l.probe_us >= UDP_PROBE_US) {
    l.probe_us = now;
    l.tcp_ping_due_us = now + UDP_PROBE_US / 2;
    (void)node_.send_control_direct(relay.serial, encode_relay_ping({ping_nonce(random_)}), l.udp_ep);
  } else if (l.tcp_ping_due_us && now >= l.tcp_ping_due_us) {
    // Half a probe period later, a ping over TCP: its answer shows the
    // connection works (the unanswered UDP probe would look like silence
    // on an idle relay), and comes long after a UDP answer would have, so
    // it cannot move the endpoint back to TCP under an answer over UDP.
    l.tcp_ping_due_us = 0;
    (void)node_.send_control(relay.serial, encode_relay_ping({ping_nonce(random_)}));
  }
}

void RelayTcpClient::leave_tcp(Peer& relay, Link& l, const char* why) {
  spdlog::warn("relay {}: back on UDP at {} ({})", relay.label(), relay.endpoint.load().to_string(), why);
  close_connection(l);
  relay.relay_over_tcp.store(false, std::memory_order_relaxed);
  l.mode = Mode::kUdp;
  l.wait.reset();
}

// Sent to the relay and nothing at all back since: for how long (handshake
// initiations count as sent; the control thread stamps them).
int64_t RelayTcpClient::update_wait(Peer& relay, Link& l, int64_t now) {
  const int64_t rx = relay.last_rx_us.load(std::memory_order_relaxed);
  const int64_t tx = std::max(relay.last_tx_us.load(std::memory_order_relaxed), relay.initiation_sent_us);
  return l.wait.update(tx, rx, now);
}

void RelayTcpClient::close_connection(Link& l) {
  if (l.conn) transport_->close(l.conn, "back on UDP");
  l.conn.reset();
}

bool RelayTcpClient::over_tcp(uint64_t relay_serial) const {
  auto it = links_.find(relay_serial);
  return it != links_.end() && it->second.mode == Mode::kTcp;
}

std::vector<RelayTcpClient::LinkView> RelayTcpClient::links() const {
  std::vector<LinkView> out;
  for (const auto& [serial, l] : links_) {
    Peer* relay = node_.peer_by_serial(serial);
    if (!relay) continue;
    LinkView v;
    v.relay = relay->label();
    v.transport = l.mode == Mode::kTcp ? "tcp" : l.mode == Mode::kConnecting ? "connecting" : "udp";
    v.udp_endpoint = l.udp_ep.empty() ? "" : l.udp_ep.to_string();
    if (l.conn) v.tcp_endpoint = to_string(l.conn->target);
    v.fallbacks = l.fallbacks;
    v.returns = l.returns;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace zeq
