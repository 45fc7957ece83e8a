#include "mesh/node.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "core/clock.hpp"
#include "mesh/data_plane.hpp"
#include "mesh/data_worker.hpp"
#include "mesh/session_manager.hpp"
#include "protocol/handshake_messages.hpp"
#include "tun/link_config.hpp"
#include "tun/tun_device.hpp"

namespace zeq {

namespace asio = boost::asio;

struct Node::Impl final : ControlInbox {
  Impl(const Config& c, LocalIdentity id, SecretBuffer secret, TunDevice device, int worker_count)
      : config(c), identity(std::move(id)), mesh(std::move(secret)), tun(std::move(device)),
        plane(worker_count, c.interface.mtu), signals(io), tick_timer(io) {}

  // ControlInbox: called from workers.
  bool deliver_handshake(ByteSpan message, const UdpEndpoint& from) override {
    if (queued_handshakes.fetch_add(1) >= kMaxQueuedHandshakes) {
      queued_handshakes.fetch_sub(1);
      return false;
    }
    std::array<uint8_t, wire::INIT_SIZE> copy{};
    size_t len = std::min(message.size(), copy.size());
    std::copy_n(message.begin(), len, copy.begin());
    asio::post(io, [this, copy, len, from] {
      queued_handshakes.fetch_sub(1);
      sessions->on_handshake_message(ByteSpan(copy.data(), len), from);
    });
    return true;
  }
  void peer_needs_attention(int peer_id) override {
    asio::post(io, [this, peer_id] { sessions->on_attention(*plane.peers[size_t(peer_id)]); });
  }

  void schedule_tick() {
    // Several ticks per Zeqond keep every timer within a fraction of it.
    tick_timer.expires_after(std::chrono::microseconds(TAU_ZQ_US / 8));
    tick_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      sessions->tick();
      schedule_tick();
    });
  }

  void wait_signal() {
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGUSR1) {
        spdlog::info("status: {}", sessions->describe());
      } else if (sig == SIGHUP) {
        spdlog::warn("SIGHUP: configuration reload is not available in this version; restart zeqvpnd to apply changes");
      } else {
        spdlog::info("{} received; shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        io.stop();
        return;
      }
      wait_signal();
    });
  }

  static constexpr int kMaxQueuedHandshakes = 1024;

  Config config;
  LocalIdentity identity;
  SecretBuffer mesh;
  SystemClock clock;
  TunDevice tun;
  DataPlane plane;
  std::vector<std::unique_ptr<DataWorker>> workers;
  std::unique_ptr<SessionManager> sessions;
  asio::io_context io;
  asio::signal_set signals;
  asio::steady_timer tick_timer;
  std::atomic<int> queued_handshakes{0};
};

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  if (!impl_) return;
  for (auto& w : impl_->workers) w->stop();
  if (impl_->sessions) impl_->sessions->shutdown();
}

Result<std::unique_ptr<Node>> Node::create(const Config& config, LocalIdentity identity, SecretBuffer mesh_secret) {
  const auto& ifc = config.interface;
  int worker_count = ifc.workers > 0 ? ifc.workers : int(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));

  if (Status s = UdpSocket::check_port_free(ifc.listen_port); !s) return s;

  auto tun = TunDevice::create(ifc.name, worker_count);
  if (!tun) return tun.status();

  LinkSettings link;
  link.ifindex = tun->ifindex();
  link.mtu = ifc.mtu;
  link.addresses = ifc.addresses;
  for (const auto& peer : config.peers) {
    for (const auto& prefix : peer.allowed_ips) {
      if (prefix.length == 0) {
        // A default route through the tunnel would also capture the tunnel's
        // own UDP packets; full-tunnel routing needs policy routing by socket
        // mark, which comes with the kill switch.
        spdlog::warn("peer {}: allowed_ips {} is used for cryptokey routing only; no default route is installed",
                     peer.zid, prefix.to_string());
        continue;
      }
      link.routes.push_back(prefix);
    }
  }
  if (Status s = configure_link(link); !s) return Status::error("configuring " + ifc.name + ": " + s.message());

  auto impl = std::make_unique<Impl>(config, std::move(identity), std::move(mesh_secret), std::move(tun.value()),
                                     worker_count);
  DataPlane& plane = impl->plane;
  plane.own_mac1_key = mac1_key_for(impl->identity.keypair.public_key);
  plane.inbox = impl.get();
  for (size_t i = 0; i < config.peers.size(); ++i) {
    plane.peers.push_back(std::make_unique<Peer>(config.peers[i], int(i)));
    for (const auto& prefix : config.peers[i].allowed_ips) plane.routes.insert(prefix, int(i));
  }

  for (int w = 0; w < worker_count; ++w) {
    auto sock = UdpSocket::open(ifc.listen_port);
    if (!sock) return sock.status();
    impl->workers.push_back(std::make_unique<DataWorker>(w, plane, impl->tun.queue_fd(w), std::move(sock.value())));
  }
  const UdpSocket& control_socket = impl->workers.front()->socket();
  impl->sessions = std::make_unique<SessionManager>(
      plane, impl->identity, impl->mesh, impl->clock,
      [&control_socket](ByteSpan msg, const UdpEndpoint& to) { return control_socket.send_to(msg.data(), msg.size(), to); });

  spdlog::info("node {} on {} (mtu {}, udp port {}, {} workers, {} peers)", impl->identity.zid, ifc.name, ifc.mtu,
               ifc.listen_port, worker_count, config.peers.size());
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

int Node::run() {
  Impl& m = *impl_;
  m.signals.add(SIGINT);
  m.signals.add(SIGTERM);
  m.signals.add(SIGUSR1);
  m.signals.add(SIGHUP);
  m.wait_signal();
  for (auto& w : m.workers) w->start();
  m.sessions->start_all();
  m.schedule_tick();
  m.io.run();

  for (auto& w : m.workers) w->stop();
  spdlog::info("final status: {}", m.sessions->describe());
  m.sessions->shutdown();
  m.tun.close();
  spdlog::info("tunnel torn down, keys wiped, interface {} removed", m.config.interface.name);
  return 0;
}

}  // namespace zeq
