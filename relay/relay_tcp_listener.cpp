#include "relay/relay_tcp_listener.hpp"

#include "relay/stream_bridge.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <set>

namespace zeq {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

tcp::endpoint to_tcp(const UdpEndpoint& ep) {
  asio::ip::address_v6::bytes_type b;
  std::memcpy(b.data(), &ep.sa.sin6_addr, b.size());
  const asio::ip::address_v6 a6(b, ep.sa.sin6_scope_id);
  const uint16_t port = ntohs(ep.sa.sin6_port);
  if (a6.is_v4_mapped()) return {asio::ip::make_address_v4(asio::ip::v4_mapped, a6), port};
  return {asio::ip::address(a6), port};
}

}  // namespace

struct RelayTcpListener::Impl {
  explicit Impl(const RelayTcpListenerSettings& s) : settings(s), acceptor(io), sweep(io) {
    if (!settings.idle_us) settings.idle_us = IDLE_US;
    if (!settings.frame_deadline_us) settings.frame_deadline_us = FRAME_DEADLINE_US;
  }

  RelayTcpListenerSettings settings;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer sweep;
  uint16_t node_port = 0;  // the relay's UDP port, on loopback
  TcpTransportCounters counters;
  std::map<asio::ip::address, size_t> per_address;  // before bridges: their close updates it
  std::set<std::shared_ptr<StreamBridge>> bridges;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](const error_code& ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) admit(std::move(sock));
      accept();
    });
  }

  void admit(tcp::socket sock) {
    error_code ec;
    const auto remote = sock.remote_endpoint(ec);
    if (ec) return;
    const auto address = remote.address();
    if (bridges.size() >= settings.max_connections || per_address[address] >= settings.connections_per_address) {
      counters.refused.fetch_add(1, std::memory_order_relaxed);
      if (per_address[address] == 0) per_address.erase(address);
      sock.close(ec);
      return;
    }
    std::string error;
    uint32_t local = 0;
    if (address.is_v4()) {
      const auto b = address.to_v4().to_bytes();
      local = loopback_for(b.data(), b.size());
    } else {
      const auto b = address.to_v6().to_bytes();
      local = loopback_for(b.data(), b.size());
    }
    const int lo = open_loopback_socket(node_port, local, error);
    if (lo < 0) {
      spdlog::warn("relay over TCP: no loopback socket for a connection ({}); closed", error);
      sock.close(ec);
      return;
    }
    const uint16_t port = remote.port();
    auto bridge = StreamBridge::start(io, sock.release(ec), lo, counters, stream_now_us(),
                                      [this, address, port](const char* why) {
                                        spdlog::debug("relay over TCP: connection from port {} closed ({})", port, why);
                                        if (auto it = per_address.find(address); it != per_address.end() && --it->second == 0)
                                          per_address.erase(it);
                                      });
    ++per_address[address];
    counters.accepted.fetch_add(1, std::memory_order_relaxed);
    bridges.insert(std::move(bridge));
  }

  void sweep_bridges() {
    const int64_t now = stream_now_us();
    for (auto it = bridges.begin(); it != bridges.end();) {
      StreamBridge& b = **it;
      const char* why = nullptr;
      if (!b.closed()) {
        if (b.partial_since_us() && now - b.partial_since_us() > settings.frame_deadline_us) why = "a frame left unfinished";
        else if (!b.last_frame_us() && now - b.opened_us() > settings.frame_deadline_us) why = "no frame after connecting";
        else if (b.last_frame_us() && now - b.last_frame_us() > settings.idle_us) why = "idle";
        if (why) {
          counters.timeouts.fetch_add(1, std::memory_order_relaxed);
          b.close(why);
        }
      }
      it = b.closed() ? bridges.erase(it) : std::next(it);
    }
    sweep.expires_after(std::chrono::microseconds(std::min(SWEEP_US, settings.frame_deadline_us / 4 + 1)));
    sweep.async_wait([this](const error_code& ec) {
      if (!ec) sweep_bridges();
    });
  }
};

RelayTcpListener::RelayTcpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RelayTcpListener::~RelayTcpListener() {
  if (impl_->thread.joinable()) {
    asio::post(impl_->io, [impl = impl_.get()] {
      error_code ec;
      impl->acceptor.close(ec);
      impl->sweep.cancel();
      for (const auto& b : std::vector(impl->bridges.begin(), impl->bridges.end())) b->close("relay stopping");
      impl->bridges.clear();
      impl->io.stop();
    });
    impl_->thread.join();
  }
}

Result<std::unique_ptr<RelayTcpListener>> RelayTcpListener::open(const RelayTcpListenerSettings& settings) {
  auto impl = std::make_unique<Impl>(settings);
  const tcp::endpoint at = to_tcp(settings.listen);
  const std::string where = settings.listen.to_string();
  error_code ec;
  impl->acceptor.open(at.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  // [::] takes IPv4 clients too.
  if (!ec && at.address().is_v6()) impl->acceptor.set_option(asio::ip::v6_only(false), ec);
  if (!ec) impl->acceptor.bind(at, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::error("relay.tcp_listen " + where + ": cannot listen (" + ec.message() +
                         "); free the port, give another address or port, or set relay.tcp_listen: off");
  // The relay's UDP socket is dual-stack: IPv4 loopback reaches it.
  impl->node_port = settings.node_port;
  return std::unique_ptr<RelayTcpListener>(new RelayTcpListener(std::move(impl)));
}

void RelayTcpListener::start() {
  impl_->accept();
  impl_->sweep_bridges();
  impl_->thread = std::thread([impl = impl_.get()] {
    for (;;) {
      try {
        impl->io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("relay over TCP: {}", e.what());
      }
    }
  });
  spdlog::info("relay over TCP: listening on {}", impl_->settings.listen.to_string());
}

const TcpTransportCounters& RelayTcpListener::counters() const { return impl_->counters; }
const UdpEndpoint& RelayTcpListener::listen() const { return impl_->settings.listen; }
uint16_t RelayTcpListener::local_port() const {
  error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

}  // namespace zeq
