#include "mesh/node.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include "mesh/ares_resolver.hpp"
#include "mesh/node_impl.hpp"
#include "protocol/control_message.hpp"
#include "protocol/handshake_messages.hpp"
#include "protocol/nat_messages.hpp"
#include "protocol/relay_messages.hpp"
#include "tun/link_config.hpp"

namespace zeq {

namespace asio = boost::asio;

// The control thread's event loop and the timers on it.
struct Node::Impl::Loop {
  Loop() : signals(io), tick_timer(io), cover_timer(io) {}
  asio::io_context io;
  asio::signal_set signals;
  asio::steady_timer tick_timer;
  asio::steady_timer cover_timer;
};

namespace {

// workers: 0 means one per core, up to this many.
constexpr unsigned MAX_DEFAULT_WORKERS = 16;

}  // namespace

Node::Impl::Impl(const NodeSettings& s, LocalIdentity id, SecretBuffer secret, TunDevice device, int worker_count)
    : settings(s), identity(std::move(id)), mesh(std::move(secret)), tun(std::move(device)),
      plane(worker_count, s.mtu), loop(std::make_unique<Loop>()), started_us(clock.mono_us()) {}

Node::Impl::~Impl() = default;

void Node::Impl::tunnel_up(Peer& peer) {
  dns->offer_to(peer, clock.mono_us());
  exits->offer_to(peer, clock.mono_us());
  if (observers.tunnels) observers.tunnels->tunnel_up(peer);
  if (observers.more_tunnels) observers.more_tunnels->tunnel_up(peer);
  if (observers.relay) observers.relay->tunnel_up(peer);
}

void Node::Impl::tunnel_down(Peer& peer, const char* reason) {
  spdlog::info("peer {}: tunnel down ({})", peer.label(), reason);
  if (observers.tunnels) observers.tunnels->tunnel_down(peer, reason);
  if (observers.more_tunnels) observers.more_tunnels->tunnel_down(peer, reason);
  if (observers.relay) observers.relay->tunnel_down(peer, reason);
}

void Node::Impl::schedule_tick() {
  loop->tick_timer.expires_after(std::chrono::microseconds(SessionManager::TICK_US));
  loop->tick_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    tick();
    schedule_tick();
  });
}

// The steady clock is CLOCK_MONOTONIC, the cover schedule's clock.
void Node::Impl::run_cover() {
  using namespace std::chrono;
  const int64_t now_ns = duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
  const int64_t wake_ns = cover->run(now_ns);
  loop->cover_timer.expires_at(steady_clock::time_point(nanoseconds(wake_ns)));
  loop->cover_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) run_cover();
  });
}

void Node::Impl::wait_signal() {
  loop->signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGUSR1) {
      spdlog::info("status: {}", sessions->describe());
    } else if (sig == SIGHUP) {
      if (hooks.on_reload_signal) hooks.on_reload_signal();
      else spdlog::warn("SIGHUP: no reload handler; restart zeqvpnd to apply changes");
    } else {
      spdlog::info("{} received; shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      if (hooks.on_stopping) hooks.on_stopping();
      loop->io.stop();
      return;
    }
    wait_signal();
  });
}

// In-tunnel control messages by type; unknown types are for later versions.
void Node::Impl::on_control_message(Peer& peer, ByteSpan plaintext) {
  auto type = control_type(plaintext);
  // A peer known only by its certificate may route its own addresses, but
  // not become this host's resolver or exit: that takes naming it in the YAML.
  if (peer.certified_only && (type == CONTROL_DNS_OFFER || type == CONTROL_EXIT_OFFER)) {
    spdlog::debug("peer {}: {} offer ignored (admitted by certificate only; name it in the YAML to use it)",
                  peer.label(), type == CONTROL_DNS_OFFER ? "DNS" : "exit");
    return;
  }
  if (type && is_relay_control(*type)) {
    if (observers.relay) observers.relay->relay_control(peer, plaintext);
    return;
  }
  if (type && is_nat_control(*type)) {
    if (observers.nat) observers.nat->nat_control(peer, plaintext);
    return;
  }
  if (type == CONTROL_DNS_OFFER) dns->on_control_message(peer, plaintext);
  else if (type == CONTROL_EXIT_OFFER) exits->on_control_message(peer, plaintext);
  else if (observers.control) observers.control->control_message(peer, plaintext);
  else spdlog::debug("peer {}: control message of unknown type {} ignored", peer.label(), type ? int(*type) : -1);
}

void Node::Impl::tick() {
  sessions->tick();
  endpoints->tick();
  if (observers.relay) observers.relay->relay_tick();
  if (observers.nat) observers.nat->nat_tick();
  if (observers.network) observers.network->tunnels_dropped(sessions->any_tunnel_dropped());
  if (++ticks % (SessionManager::TICKS_PER_ZEQOND * DnsOffers::OFFER_EVERY_Z) == 0) {
    int64_t now = clock.mono_us();
    for (const auto& p : plane.peers) {
      if (!p->current_owned) continue;
      dns->offer_to(*p, now);
      exits->offer_to(*p, now);
    }
  }
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  if (!impl_) return;
  for (auto& w : impl_->workers) w->stop();
  if (impl_->sessions) impl_->sessions->shutdown();
}

namespace {

// The TUN device with its MTU, addresses and the peers' routes, or an error
// (the device, not persistent, goes away with the Result).
Result<TunDevice> open_tun(const NodeSettings& settings, int queues) {
  // A relay has no interface: its workers get queues nothing is ever
  // written to (tun/tun_device.hpp detached).
  if (settings.relay_role) return TunDevice::detached(queues);
  auto tun = TunDevice::create(settings.interface_name, queues, settings.offloads);
  if (!tun) return tun.status();
  LinkSettings link;
  link.ifindex = tun->ifindex();
  link.mtu = settings.mtu;
  link.addresses = settings.addresses;
  auto routes = kernel_routes(settings.peers);
  link.routes.assign(routes.begin(), routes.end());
  if (Status s = configure_link(link); !s) return Status::error("configuring " + settings.interface_name + ": " + s.message());
  return tun;
}

}  // namespace

// The workers' inbox and their view of the peers, then one worker per TUN
// queue with its own socket, then the control thread's session logic, which
// sends its handshakes through the first worker's socket.
Status Node::Impl::build() {
  // One producer slot per worker, then the control thread's (control_slot()).
  auto made_queue = ControlQueue::create(
      loop->io, plane.workers + 1, ControlQueue::Handlers{
                    .handshake = [this](ByteSpan msg, const UdpEndpoint& from, uint64_t via) { sessions->on_handshake_message(msg, from, via); },
                    .control =
                        [this](uint64_t serial, ByteSpan plaintext) {
                          if (Peer* p = plane.find_by_serial(serial)) on_control_message(*p, plaintext);
                        },
                    // The peer may have been removed by a reload since the worker asked.
                    .attention =
                        [this](uint64_t serial) {
                          Peer* p = plane.find_by_serial(serial);
                          if (!p) return;
                          sessions->on_attention(*p);
                          if (uint32_t c = p->unknown_channel.load(std::memory_order_relaxed); c && observers.relay)
                            observers.relay->unknown_channel(*p, c);
                        }});
  if (!made_queue) return made_queue.status();
  queue = std::move(made_queue.value());
  plane.own_mac1_key = mac1_key_for(identity.keypair.public_key);
  plane.handshake_guard = std::make_unique<HandshakeGuard>(identity.keypair.public_key, random);
  plane.inbox = queue.get();
  plane.relay_role = settings.relay_role;
  for (const auto& peer : settings.peers) plane.add_peer(peer).apply_traffic_shape(settings.cover, settings.padding);
  plane.publish_table();

  for (int w = 0; w < plane.workers; ++w) {
    auto sock = UdpSocket::open(settings.listen_port, settings.fwmark, settings.offloads);
    if (!sock) return sock.status();
    if (w == 0) {
      std::string udp = sock->gso() && sock->gro() ? "gso gro" : sock->gso() ? "gso" : sock->gro() ? "gro" : "off";
      offloads = settings.offloads ? "tun " + tun.offload_summary() + ", udp " + udp : "off (interface.offloads: off)";
    }
    auto worker = DataWorker::create(w, plane, tun.queue_fd(w), std::move(sock.value()), tun.vnet_hdr());
    if (!worker) return worker.status();
    workers.push_back(std::move(worker.value()));
  }
  const UdpSocket& control_socket = workers.front()->socket();
  sessions = std::make_unique<SessionManager>(
      plane, identity, mesh, clock, random,
      [&control_socket](ByteSpan msg, const UdpEndpoint& to) { return control_socket.send_to(msg.data(), msg.size(), to); });
  sessions->set_events(this);
  sessions->set_routes_changed_hook([this] { sync_certified_routes(); });
  sessions->apply_trust(settings.trust);
  sessions->set_traffic_shape(settings.cover, settings.padding);
  sessions->set_known_peer_idle(settings.known_peer_idle_z);
  dns = std::make_unique<DnsOffers>(plane, *sessions);
  dns->set_resolver(settings.dns_offer);
  exits = std::make_unique<ExitOffers>(*sessions);
  exits->set_offer(settings.exit_offer, plane.peers, clock.mono_us());
  cover = std::make_unique<CoverScheduler>(plane, *sessions, random);
  // Host names are resolved on this loop, outside the tunnel (the sockets
  // carry the fwmark), by the servers the daemon captured at start.
  endpoints = std::make_unique<EndpointRefresher>(
      plane, clock,
      [this]() -> Result<std::unique_ptr<HostResolver>> {
        auto r = AresResolver::create(loop->io, settings.endpoint_resolvers, settings.fwmark);
        if (!r) return r.status();
        return std::unique_ptr<HostResolver>(std::move(r.value()));
      },
      [this](Peer& peer) { sessions->endpoint_found(peer); });
  sessions->set_unanswered_hook([this](Peer& peer) { endpoints->handshake_unanswered(peer); });
  return Status::ok();
}

Result<TunDevice> Node::open_interface(const NodeSettings& settings) {
  const int worker_count = settings.workers > 0 ? settings.workers
                                                : int(std::clamp(std::thread::hardware_concurrency(), 1u, MAX_DEFAULT_WORKERS));
  if (Status s = UdpSocket::check_port_free(settings.listen_port); !s) return s;
  return open_tun(settings, worker_count);
}

Result<std::unique_ptr<Node>> Node::create(const NodeSettings& settings, LocalIdentity identity,
                                           SecretBuffer mesh_secret, TunDevice interface) {
  const int worker_count = interface.queue_count();
  auto impl = std::make_unique<Impl>(settings, std::move(identity), std::move(mesh_secret), std::move(interface),
                                     worker_count);
  if (Status s = impl->build(); !s) return s;
  if (settings.relay_role)
    spdlog::info("relay {} (no tunnel interface; udp port {}, {} workers, {} peers; offloads: {})", impl->identity.zid,
                 settings.listen_port, worker_count, settings.peers.size(), impl->offloads);
  else
    spdlog::info("node {} on {} (mtu {}, udp port {}, {} workers, {} peers; offloads: {})", impl->identity.zid,
                 settings.interface_name, settings.mtu, settings.listen_port, worker_count, settings.peers.size(),
                 impl->offloads);
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

void Node::set_observers(Observers observers) {
  impl_->observers = observers;
  impl_->dns->set_policy(observers.network);
  impl_->exits->set_policy(observers.network);
}

void Node::set_hooks(Hooks hooks) { impl_->hooks = std::move(hooks); }

boost::asio::io_context& Node::io() { return impl_->loop->io; }

int Node::ifindex() const { return impl_->tun.ifindex(); }

void Node::send_first_handshakes() {
  Impl& m = *impl_;
  if (m.first_handshakes_sent) return;
  m.first_handshakes_sent = true;
  m.endpoints->tick();  // host names first: their peers handshake once resolved
  m.sessions->start_all();
}

int Node::run() {
  Impl& m = *impl_;
  for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGHUP}) m.loop->signals.add(sig);
  m.wait_signal();
  for (auto& w : m.workers) w->start();
  send_first_handshakes();
  m.schedule_tick();
  m.run_cover();
  if (m.hooks.on_ready) asio::post(m.loop->io, m.hooks.on_ready);
  m.loop->io.run();

  for (auto& w : m.workers) w->stop();
  spdlog::info("final status: {}", m.sessions->describe());
  m.sessions->shutdown();
  if (m.hooks.on_teardown) m.hooks.on_teardown();
  m.tun.close();
  if (m.settings.relay_role) spdlog::info("relay stopped, keys wiped");
  else spdlog::info("tunnel torn down, keys wiped, interface {} removed", m.settings.interface_name);
  return 0;
}

}  // namespace zeq
