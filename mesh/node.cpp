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
#include <map>
#include <set>
#include <thread>

#include "core/clock.hpp"
#include "crypto/random.hpp"
#include "dns/resolv_conf.hpp"
#include "dns/system_resolver.hpp"
#include "firewall/nftables_backend.hpp"
#include "mesh/data_plane.hpp"
#include "mesh/data_worker.hpp"
#include "mesh/network_guard.hpp"
#include "mesh/session_manager.hpp"
#include "mesh/tunnel_recorder.hpp"
#include "protocol/control_message.hpp"
#include "protocol/handshake_messages.hpp"
#include "protocol/padding_policy.hpp"
#include "store/tunnel_store.hpp"
#include "tun/link_config.hpp"
#include "tun/tun_device.hpp"

namespace zeq {

namespace asio = boost::asio;

namespace {

// How often active tunnels' byte counters are written to vpn_tunnels and the
// usage ledger: a crash loses at most this much accounting.
constexpr int64_t kCheckpointEveryZ = 13;

const char* to_string(Received r) {
  switch (r) {
    case Received::kKeepalive: return "keepalive";
    case Received::kCover: return "cover";
    case Received::kControl: return "control";
    case Received::kCount: break;
  }
  return "unknown";
}

// Uniform in (0, 1], for the probabilistic cover schedule.
double uniform_open01() { return (double(random_uniform(UINT32_MAX)) + 1.0) / 4294967296.0; }

// Kernel routes for a peer list: every allowed_ips prefix but a default
// route (full-tunnel routing needs policy routing; see README).
std::set<IpPrefix> kernel_routes(const std::vector<PeerConfig>& peers) {
  std::set<IpPrefix> out;
  for (const auto& p : peers)
    for (const auto& prefix : p.allowed_ips)
      if (prefix.length > 0) out.insert(prefix.network());
  return out;
}

}  // namespace

struct Node::Impl final : ControlInbox, TunnelEvents {
  Impl(const Config& c, LocalIdentity id, SecretBuffer secret, TunDevice device, int worker_count, TunnelStore* s)
      : config(c), identity(std::move(id)), mesh(std::move(secret)), tun(std::move(device)),
        plane(worker_count, c.interface.mtu), store(s), signals(io), tick_timer(io), cover_timer(io), started_us(clock.mono_us()) {
    if (s) recorder = std::make_unique<TunnelRecorder>(*s, clock, identity.zid);
  }

  // ControlInbox: called from workers. Messages are copied into a bounded
  // queue of work for the control thread, so a flood cannot grow memory.
  template <size_t N, typename Fn>
  bool post_copy(ByteSpan bytes, Fn fn) {
    if (queued_messages.fetch_add(1) >= kMaxQueuedMessages) {
      queued_messages.fetch_sub(1);
      return false;
    }
    std::array<uint8_t, N> copy{};
    size_t len = std::min(bytes.size(), N);
    std::copy_n(bytes.begin(), len, copy.begin());
    asio::post(io, [this, copy, len, fn = std::move(fn)] {
      queued_messages.fetch_sub(1);
      fn(ByteSpan(copy.data(), len));
    });
    return true;
  }
  bool deliver_handshake(ByteSpan message, const UdpEndpoint& from) override {
    return post_copy<wire::INIT_SIZE>(message, [this, from](ByteSpan m) { sessions->on_handshake_message(m, from); });
  }
  bool deliver_control(uint64_t serial, ByteSpan plaintext) override {
    return post_copy<SessionManager::kMaxControlPlaintext>(plaintext, [this, serial](ByteSpan m) {
      if (Peer* p = plane.find_by_serial(serial)) on_control_message(*p, m);
    });
  }

  // In-tunnel control messages. Only the DNS offer exists so far.
  void on_control_message(Peer& peer, ByteSpan plaintext) {
    if (plaintext.size() < 2 || plaintext[1] != CONTROL_DNS_OFFER) {
      spdlog::debug("peer {}: control message of unknown type {} ignored", peer.label(), plaintext.size() > 1 ? plaintext[1] : 0);
      return;
    }
    auto offer = parse_dns_offer(plaintext);
    if (!offer) {
      spdlog::warn("peer {}: malformed DNS offer ignored", peer.label());
      return;
    }
    if (!config.dns.via_peer) {
      spdlog::debug("peer {}: DNS offer ignored (dns_via_peer: false)", peer.label());
      return;
    }
    // A resolver the peer does not route for would send names elsewhere.
    for (const auto& r : offer->resolvers) {
      if (plane.table()->lookup(r.family, r.addr.data()) != &peer) {
        spdlog::warn("peer {}: offered resolver {} is outside its allowed_ips; offer ignored", peer.label(), r.to_string());
        return;
      }
    }
    if (!guard->dns_peer().empty() && guard->dns_peer() != peer.label()) {
      // Offers repeat every 13 Z: one line at debug, not a warning each time.
      spdlog::debug("peer {}: DNS offer ignored; names already resolve via {}", peer.label(), guard->dns_peer());
      return;
    }
    remember_dns_offer(peer, *offer);
    if (Status s = guard->use_dns(peer.label(), offer->resolvers); !s)
      spdlog::warn("dns: offer from {} not used: {}", peer.label(), s.message());
  }

  // The offered resolver is kept in the vault (dns.<zid>), never in the
  // environment or the YAML; offers repeat every 13 Z, so only a change is
  // written (and audited).
  void remember_dns_offer(const Peer& peer, const DnsOffer& offer) {
    std::string text;
    for (const auto& r : offer.resolvers) text += (text.empty() ? "" : " ") + r.to_string();
    std::string name = "dns." + peer.key.zid;
    if (!store || stored_offers[name] == text) return;
    Status s = store->vault().put(name, as_bytes(text), {"dns.resolver", peer.key.zid, 0}, "zeqvpnd", clock.zeqond());
    if (!s) spdlog::warn("state: storing the resolver of {}: {}", peer.label(), s.message());
    else stored_offers[name] = text;
  }

  void offer_dns(Peer& peer) {
    if (config.dns.offer.empty()) return;
    DnsOffer offer{{*parse_ip_prefix(config.dns.offer)}};
    sessions->send_plaintext(peer, clock.mono_us(), encode_dns_offer(offer));
  }

  void peer_needs_attention(uint64_t serial) override {
    asio::post(io, [this, serial] {
      // The peer may have been removed by a reload since the worker asked.
      if (Peer* p = plane.find_by_serial(serial)) sessions->on_attention(*p);
    });
  }

  // Logs every transition and hands it to the recorder, if there is a store.
  void tunnel_up(Peer& peer) override {
    if (recorder) recorder->tunnel_up(peer);
    offer_dns(peer);
  }
  void tunnel_down(Peer& peer, const char* reason) override {
    spdlog::info("peer {}: tunnel down ({})", peer.label(), reason);
    if (recorder) recorder->tunnel_down(peer, reason);
  }

  void checkpoint_tunnels() {
    if (!recorder) return;
    std::vector<Peer*> peers;
    for (const auto& p : plane.peers) peers.push_back(p.get());
    recorder->checkpoint(peers);
  }

  void schedule_tick() {
    // Several ticks per Zeqond keep every timer within a fraction of it.
    tick_timer.expires_after(std::chrono::microseconds(TAU_ZQ_US / 8));
    tick_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      sessions->tick();
      guard->set_tunnels_dropped(sessions->any_tunnel_dropped());
      if (++ticks % (8 * kCheckpointEveryZ) == 0) {
        checkpoint_tunnels();
        // Offers go again now and then: a lost UDP packet must not leave
        // the peer's names resolving elsewhere.
        for (const auto& p : plane.peers)
          if (p->current_owned) offer_dns(*p);
      }
      schedule_tick();
    });
  }

  void wait_signal() {
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGUSR1) {
        spdlog::info("status: {}", sessions->describe());
      } else if (sig == SIGHUP) {
        if (hooks.on_reload_signal) hooks.on_reload_signal();
        else spdlog::warn("SIGHUP: no reload handler; restart zeqvpnd to apply changes");
      } else {
        spdlog::info("{} received; shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        if (hooks.on_stopping) hooks.on_stopping();
        io.stop();
        return;
      }
      wait_signal();
    });
  }

  // Padding and cover mode in force for a peer: its own setting, else the
  // node's; an operator's `zeqvpnctl cover on|off` overrides the cover mode.
  void apply_traffic_shape(Peer& p) {
    const std::string& pad = p.config.padding.empty() ? config.padding : p.config.padding;
    p.padding.store(uint8_t(padding_policy_from(pad).value_or(PaddingPolicy::kNone)), std::memory_order_relaxed);
    CoverMode mode = configured_cover(p);
    if (p.cover_override == false) mode = CoverMode::kOff;
    else if (p.cover_override == true && mode == CoverMode::kOff) mode = CoverMode::kConstant;
    if (mode != p.cover_mode) {
      p.cover_mode = mode;
      p.cover.reset();
    }
  }
  CoverMode configured_cover(const Peer& p) const {
    return cover_mode_from(p.config.cover.empty() ? config.cover : p.config.cover).value_or(CoverMode::kOff);
  }

  // Sends every cover packet that is due, then sleeps until the next one (or
  // a fraction of a Zeqond, to notice tunnels that come up). Times are the
  // steady clock's, which is CLOCK_MONOTONIC, the timer's own clock.
  void run_cover() {
    using namespace std::chrono;
    const int64_t now_ns = duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
    int64_t wake = now_ns + TAU_ZQ_US * 1000 / 8;
    for (const auto& p : plane.peers) {
      if (p->cover_mode == CoverMode::kOff || !p->current_owned) {
        p->cover.reset();
        continue;
      }
      // A schedule more than a second behind (a stopped process, a suspend)
      // starts again rather than bursting to catch up.
      if (p->cover && now_ns - p->cover->next_due_ns() > 1'000'000'000) p->cover.reset();
      if (!p->cover) p->cover.emplace(p->cover_mode, now_ns, uniform_open01);
      while (p->cover->next_due_ns() <= now_ns) {
        if (size_t sent = sessions->send_cover(*p, now_ns / 1000)) {
          ++p->cover_tx_packets;
          p->cover_tx_bytes += sent;
          p->cover_last_sent_ns = now_ns;
        }
        p->cover->advance();
      }
      wake = std::min(wake, p->cover->next_due_ns());
    }
    cover_timer.expires_at(steady_clock::time_point(nanoseconds(wake)));
    cover_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) run_cover();
    });
  }

  Result<Peer*> find_peer(const std::string& name) const {
    if (Peer* p = plane.find(name)) return p;
    std::string known;
    for (const auto& p : plane.peers) known += (known.empty() ? "" : ", ") + (p->config.name.empty() ? p->key.zid : p->config.name);
    return Status::error("unknown peer '" + name + "'; configured peers: " + (known.empty() ? "(none)" : known));
  }

  static constexpr int kMaxQueuedMessages = 1024;

  Config config;
  LocalIdentity identity;
  SecretBuffer mesh;
  SystemClock clock;
  TunDevice tun;
  DataPlane plane;
  TunnelStore* store;
  std::unique_ptr<TunnelRecorder> recorder;  // null without a state store
  std::unique_ptr<NetworkGuard> guard;
  std::map<std::string, std::string> stored_offers;  // vault name -> what it holds
  std::vector<std::unique_ptr<DataWorker>> workers;
  std::unique_ptr<SessionManager> sessions;
  Hooks hooks;
  asio::io_context io;
  asio::signal_set signals;
  asio::steady_timer tick_timer;
  asio::steady_timer cover_timer;
  std::atomic<int> queued_messages{0};
  const int64_t started_us;
  uint64_t ticks = 0;
};

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  if (!impl_) return;
  for (auto& w : impl_->workers) w->stop();
  if (impl_->sessions) impl_->sessions->shutdown();
}

Result<std::unique_ptr<Node>> Node::create(const Config& config, LocalIdentity identity, SecretBuffer mesh_secret,
                                           TunnelStore* store) {
  const auto& ifc = config.interface;
  int worker_count = ifc.workers > 0 ? ifc.workers : int(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));

  if (Status s = UdpSocket::check_port_free(ifc.listen_port); !s) return s;

  auto tun = TunDevice::create(ifc.name, worker_count);
  if (!tun) return tun.status();

  LinkSettings link;
  link.ifindex = tun->ifindex();
  link.mtu = ifc.mtu;
  link.addresses = ifc.addresses;
  for (const auto& peer : config.peers)
    for (const auto& prefix : peer.allowed_ips)
      if (prefix.length == 0)
        // A default route through the tunnel would also capture the tunnel's
        // own UDP packets; full-tunnel routing needs policy routing by socket
        // mark, which comes with the kill switch.
        spdlog::warn("peer {}: allowed_ips {} is used for cryptokey routing only; no default route is installed",
                     peer.zid, prefix.to_string());
  auto routes = kernel_routes(config.peers);
  link.routes.assign(routes.begin(), routes.end());
  if (Status s = configure_link(link); !s) return Status::error("configuring " + ifc.name + ": " + s.message());

  // The kill switch and the resolver before any packet can leave: in
  // `always` mode the node is armed before its first handshake.
  auto resolver = make_system_resolver(tun->ifindex(), config.dns.resolv_conf,
                                       resolv_conf_backup_path(config.state.database));
  if (!resolver) return resolver.status();
  auto firewall = NftablesBackend::open();
  if (!firewall) return firewall.status();
  auto guard = std::make_unique<NetworkGuard>(config, std::move(firewall.value()), std::move(resolver.value()));
  if (Status s = guard->start(); !s) return Status::error("kill switch: " + s.message());

  auto impl = std::make_unique<Impl>(config, std::move(identity), std::move(mesh_secret), std::move(tun.value()),
                                     worker_count, store);
  impl->guard = std::move(guard);
  DataPlane& plane = impl->plane;
  plane.own_mac1_key = mac1_key_for(impl->identity.keypair.public_key);
  plane.inbox = impl.get();
  for (const auto& peer : config.peers) impl->apply_traffic_shape(plane.add_peer(peer));
  plane.publish_table();

  for (int w = 0; w < worker_count; ++w) {
    auto sock = UdpSocket::open(ifc.listen_port, config.kill_switch.fwmark);
    if (!sock) return sock.status();
    impl->workers.push_back(std::make_unique<DataWorker>(w, plane, impl->tun.queue_fd(w), std::move(sock.value())));
  }
  const UdpSocket& control_socket = impl->workers.front()->socket();
  impl->sessions = std::make_unique<SessionManager>(
      plane, impl->identity, impl->mesh, impl->clock,
      [&control_socket](ByteSpan msg, const UdpEndpoint& to) { return control_socket.send_to(msg.data(), msg.size(), to); });
  impl->sessions->set_events(impl.get());
  if (impl->recorder) impl->recorder->settle_orphans();

  spdlog::info("node {} on {} (mtu {}, udp port {}, {} workers, {} peers)", impl->identity.zid, ifc.name, ifc.mtu,
               ifc.listen_port, worker_count, config.peers.size());
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

void Node::set_hooks(Hooks hooks) { impl_->hooks = std::move(hooks); }

boost::asio::io_context& Node::io() { return impl_->io; }

const Config& Node::config() const { return impl_->config; }

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
  m.run_cover();
  if (m.hooks.on_ready) asio::post(m.io, m.hooks.on_ready);
  m.io.run();

  for (auto& w : m.workers) w->stop();
  spdlog::info("final status: {}", m.sessions->describe());
  m.sessions->shutdown();
  m.guard->shutdown();
  m.tun.close();
  spdlog::info("tunnel torn down, keys wiped, interface {} removed", m.config.interface.name);
  return 0;
}

NodeStatus Node::status() const {
  const Impl& m = *impl_;
  NodeStatus s;
  int64_t now = m.clock.mono_us();
  int64_t unix_now = m.clock.unix_us();
  s.zid = m.identity.zid;
  s.public_key = encode_key(m.identity.keypair.public_key);
  s.interface = m.config.interface.name;
  s.listen_port = m.config.interface.listen_port;
  s.mtu = m.config.interface.mtu;
  s.workers = m.plane.workers;
  s.uptime_us = now - m.started_us;
  s.zeqond = zeqond_of(unix_now);
  s.phase = zeqond_phase(unix_now);
  s.handshakes_completed = m.sessions->handshakes_completed();
  s.handshakes_answered = m.sessions->handshakes_answered();
  for (size_t r = 1; r < size_t(HandshakeReject::kCount); ++r)
    if (uint64_t n = m.sessions->rejects(HandshakeReject(r))) s.handshake_rejects[to_string(HandshakeReject(r))] = n;
  for (size_t d = 0; d < size_t(Drop::kCount); ++d) {
    uint64_t sum = 0;
    for (const auto& c : m.plane.counters) sum += c.drops[d].load(std::memory_order_relaxed);
    s.drops[to_string(Drop(d))] = sum;
  }
  for (size_t r = 0; r < size_t(Received::kCount); ++r) {
    uint64_t sum = 0;
    for (const auto& c : m.plane.counters) sum += c.received[r].load(std::memory_order_relaxed);
    s.received[to_string(Received(r))] = sum;
  }
  for (const auto& p : m.plane.peers) {
    PeerStatus ps;
    ps.name = p->config.name;
    ps.zid = p->key.zid;
    ps.public_key = encode_key(p->key.public_key);
    ps.state = p->admin_down ? "admin_down" : p->current_owned ? "up" : p->pending_handshake ? "connecting" : "down";
    UdpEndpoint ep = p->endpoint.load();
    if (!ep.empty()) ps.endpoint = ep.to_string();
    for (const auto& prefix : p->config.allowed_ips) ps.allowed_ips.push_back(prefix.to_string());
    if (p->last_handshake_us) ps.last_handshake_age_us = now - p->last_handshake_us;
    if (p->up_since_us) ps.up_for_us = now - p->up_since_us;
    ps.rx_bytes = p->rx_bytes.load();
    ps.tx_bytes = p->tx_bytes.load();
    ps.rx_packets = p->rx_packets.load();
    ps.tx_packets = p->tx_packets.load();
    ps.handshakes = p->handshakes;
    ps.rekeys = p->rekeys;
    ps.persistent_keepalive_s = p->config.persistent_keepalive_s;
    ps.tunnel_id = p->tunnel_id;
    ps.cover_mode = to_string(p->cover_mode);
    ps.padding = to_string(PaddingPolicy(p->padding.load()));
    ps.cover_tx_packets = p->cover_tx_packets;
    ps.cover_tx_bytes = p->cover_tx_bytes;
    ps.cover_rx_packets = p->cover_rx_packets.load();
    ps.cover_rx_bytes = p->cover_rx_bytes.load();
    ps.cover_last_sent_ns = p->cover_last_sent_ns;
    s.peers.push_back(std::move(ps));
  }
  s.guard = m.guard->status();
  return s;
}

Status Node::check_peer(const std::string& name) const {
  auto p = impl_->find_peer(name);
  return p ? Status::ok() : p.status();
}

Status Node::peer_down(const std::string& name) {
  auto p = impl_->find_peer(name);
  if (!p) return p.status();
  impl_->sessions->set_admin_down(**p, true);
  return Status::ok();
}

Status Node::peer_up(const std::string& name) {
  auto p = impl_->find_peer(name);
  if (!p) return p.status();
  impl_->sessions->set_admin_down(**p, false);
  return Status::ok();
}

Status Node::rekey(const std::string& name) {
  auto p = impl_->find_peer(name);
  if (!p) return p.status();
  if ((*p)->admin_down) return Status::error("peer '" + name + "' is down by operator; `zeqvpnctl up " + name + "` first");
  if (!impl_->sessions->rekey_now(**p))
    return Status::error("peer '" + name + "' has no known endpoint yet; it rekeys when it next calls in");
  return Status::ok();
}

Status Node::cover(const std::string& peer, bool on) {
  std::vector<Peer*> targets;
  if (peer.empty()) {
    for (const auto& p : impl_->plane.peers) targets.push_back(p.get());
  } else {
    auto p = impl_->find_peer(peer);
    if (!p) return p.status();
    targets.push_back(*p);
  }
  for (Peer* p : targets) {
    p->cover_override = on;
    impl_->apply_traffic_shape(*p);
    spdlog::info("peer {}: cover traffic {} by operator", p->label(), to_string(p->cover_mode));
  }
  return Status::ok();
}

Status Node::killswitch_arm() { return impl_->guard->arm(); }

Status Node::killswitch_disarm() { return impl_->guard->disarm(); }

Result<std::string> Node::reload(const Config& next) {
  Impl& m = *impl_;
  const auto& a = m.config.interface;
  const auto& b = next.interface;
  auto unchanged = [&](bool same, const std::string& field, const std::string& was, const std::string& now) -> Status {
    if (same) return Status::ok();
    return Status::error(next.source + ": " + field + " cannot change while zeqvpnd runs (" + was + " -> " + now +
                         "); restart zeqvpnd to apply it, or put the old value back to reload the rest");
  };
  auto join = [](const std::vector<IpPrefix>& v) {
    std::string s;
    for (const auto& p : v) s += (s.empty() ? "" : ",") + p.to_string();
    return "[" + s + "]";
  };
  // The sockets carry the mark and the resolver backend holds the file from
  // the start, so these need a restart like the interface itself.
  const auto& ka = m.config.kill_switch;
  const auto& kb = next.kill_switch;
  for (Status s : {unchanged(a.name == b.name, "interface.name", a.name, b.name),
                   unchanged(a.listen_port == b.listen_port, "interface.listen_port", std::to_string(a.listen_port),
                             std::to_string(b.listen_port)),
                   unchanged(a.mtu == b.mtu, "interface.mtu", std::to_string(a.mtu), std::to_string(b.mtu)),
                   unchanged(a.workers == b.workers, "interface.workers", std::to_string(a.workers),
                             std::to_string(b.workers)),
                   unchanged(a.addresses == b.addresses, "interface.addresses", join(a.addresses), join(b.addresses)),
                   unchanged(ka.fwmark == kb.fwmark, "fwmark", std::to_string(ka.fwmark), std::to_string(kb.fwmark)),
                   unchanged(m.config.dns.resolv_conf == next.dns.resolv_conf, "dns.resolv_conf", m.config.dns.resolv_conf,
                             next.dns.resolv_conf)}) {
    if (!s) return s;
  }

  // Kernel routes first: if netlink refuses, nothing else has changed yet.
  auto old_routes = kernel_routes(m.config.peers);
  auto new_routes = kernel_routes(next.peers);
  std::vector<IpPrefix> add, remove;
  std::set_difference(new_routes.begin(), new_routes.end(), old_routes.begin(), old_routes.end(), std::back_inserter(add));
  std::set_difference(old_routes.begin(), old_routes.end(), new_routes.begin(), new_routes.end(), std::back_inserter(remove));
  if (Status s = change_routes(m.tun.ifindex(), add, remove); !s) {
    (void)change_routes(m.tun.ifindex(), remove, add);  // put back what went through
    return Status::error("reload: " + s.message());
  }

  if (Status s = m.guard->reconfigure(next); !s) spdlog::error("reload: kill switch: {}", s.message());
  auto change = m.sessions->apply_peers(next.peers);
  spdlog::set_level(spdlog::level::from_str(next.log_level));
  m.config.peers = next.peers;
  m.config.log_level = next.log_level;
  m.config.kill_switch = next.kill_switch;
  m.config.dns = next.dns;
  m.config.cover = next.cover;
  m.config.padding = next.padding;
  for (const auto& p : m.plane.peers) m.apply_traffic_shape(*p);
  m.config.source = next.source;

  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s.empty() ? std::string("none") : s;
  };
  return "added " + list(change.added) + "; removed " + list(change.removed) + "; updated " + list(change.updated) +
         "; unchanged " + std::to_string(change.unchanged) + "; routes +" + std::to_string(add.size()) + " -" +
         std::to_string(remove.size());
}

}  // namespace zeq
