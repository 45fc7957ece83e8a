#include "daemon/daemon.hpp"

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <optional>
#include <system_error>

#include <spdlog/spdlog.h>

#include "control/control_server.hpp"
#include "core/log.hpp"
#include "daemon/address_watch.hpp"
#include "daemon/control_handler.hpp"
#include "daemon/local_endpoints.hpp"
#include "daemon/endpoint_name_servers.hpp"
#include "daemon/enrollment_service.hpp"
#include "daemon/exit_client.hpp"
#include "daemon/exit_server.hpp"
#include "daemon/host_network.hpp"
#include "daemon/mesh_directory.hpp"
#include "daemon/mesh_settings.hpp"
#include "daemon/mesh_trust_files.hpp"
#include "daemon/metrics_http_server.hpp"
#include "daemon/network_guard.hpp"
#include "daemon/node_identity.hpp"
#include "daemon/periodic_task.hpp"
#include "daemon/privileges.hpp"
#include "daemon/relay_recorder.hpp"
#include "daemon/reload_check.hpp"
#include "daemon/service_notify.hpp"
#include "daemon/tunnel_recorder.hpp"
#include "dns/resolv_conf.hpp"
#include "dns/system_resolver.hpp"
#include "firewall/boot_rules.hpp"
#include "firewall/mss_clamp.hpp"
#include "firewall/nftables_backend.hpp"
#include "loader/certificate_files.hpp"
#include "loader/loader.hpp"
#include "mesh/node.hpp"
#include "mesh/peer.hpp"
#include "mesh/session_manager.hpp"
#include "relay/metadata_log.hpp"
#include "relay/nat_traversal.hpp"
#include "relay/relay_client.hpp"
#include "relay/relay_service.hpp"
#include "relay/relay_tcp_client.hpp"
#include "relay/relay_tcp_listener.hpp"
#include "store/schema.hpp"
#include "store/tunnel_store.hpp"
#include "store/vault.hpp"

namespace zeq {

namespace {

// How often open tunnels' byte counters are written to vpn_tunnels: a killed
// daemon loses at most this much accounting (a power cut at most
// TunnelRecorder::LEDGER_EVERY_Z, its disk-sync period). Only rows that moved
// are written, in one transaction, so an idle node writes nothing.
constexpr int64_t CHECKPOINT_EVERY_Z = 1;

Result<Database> open_database(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::error("state.database " + path + ": cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  auto db = Database::open(path);
  if (!db) return db.status();
  if (Status s = migrate(*db); !s) return s;
  return db;
}

}  // namespace

Daemon::Daemon(Options options) : options_(std::move(options)) {}

Daemon::~Daemon() {
  // The control socket, the metrics endpoint and timers live on the node's
  // event loop.
  control_.reset();
  metrics_.reset();
  enrollment_.reset();
  watchdog_.reset();
  checkpoint_.reset();
  directory_tick_.reset();
  relay_tcp_tick_.reset();
  relay_tcp_client_.reset();  // its connections' thread, before the node it points relays at
  relay_tcp_listener_.reset();
  address_watch_.reset();
  if (directory_) directory_->stop();  // the etcd thread posts to the node's event loop
  exit_client_.reset();  // its rules out while the node and the guard still exist
  node_.reset();
  flush_log();  // what the rate limit held back in the last window
}

Result<std::string> Daemon::check(const Options& options) {
  auto config = load_config_file(options.config_path);
  if (!config) return config.status();
  if (Status s = init_logging(options.log_level.empty() ? config->log_level : options.log_level); !s) return s;
  if (auto secret = load_mesh_secret(); !secret) return secret.status();
  if (auto field_key = load_field_key(); !field_key) return field_key.status();
  if (auto sync = load_sync_credentials(); !sync) return sync.status();
  if (config->directory.backend == DirectoryBackend::kEtcd)
    if (auto password = load_etcd_password(); !password) return password.status();
  std::string who = "identity from the vault";
  if (!config->interface.identity_key_file.empty()) {
    auto id = load_identity_key_file(config->interface.identity_key_file);
    if (!id) return id.status();
    if (Status s = refuse_own_key_as_peer(*config, id->keypair.public_key); !s) return s;
    who = "node " + id->zid;
  }
  return options.config_path + ": configuration valid; " + who + ", " + std::to_string(config->peers.size()) + " peers";
}

Result<std::unique_ptr<Daemon>> Daemon::start(const Options& options) {
  std::unique_ptr<Daemon> d(new Daemon(options));
  auto config = load_config_file(options.config_path);
  if (!config) return config.status();
  d->config_ = std::move(config.value());
  if (Status s = init_logging(options.log_level.empty() ? d->config_.log_level : options.log_level); !s) return s;
  auto secret = load_mesh_secret();
  if (!secret) return secret.status();
  auto field_key = load_field_key();
  if (!field_key) return field_key.status();

  // The vault's key is PBKDF2 over ZEQ_FIELD_KEY (200 000 iterations,
  // SEED-FACTS), the longest step of a start: it is derived on a second
  // thread (PBKDF2 only, on its stack) while this one creates or opens the
  // database, plans the exit, opens the node's interface and looks up the
  // control socket's group, none of which needs the identity or the vault. A database that does not exist yet gets
  // a fresh salt here, so the derivation starts before the file is created
  // (creating it is a few ms of schema and fsyncs); an existing one is opened
  // first for its salt (about a millisecond). The MSS clamp stays after the
  // node: its nftables commands build and free large hash tables, and with
  // those freed before the node's long-lived allocations the heap came out
  // 0.5 MiB larger.
  std::error_code no_file;
  std::optional<Vault::Opening> opening;
  if (!std::filesystem::exists(d->config_.state.database, no_file) && !no_file) opening = Vault::begin_new();
  std::future<void> derived;
  auto derive = [&] {
    try {
      derived = std::async(std::launch::async, [&o = *opening, &key = field_key.value()] { o.derive(key); });
    } catch (const std::system_error&) {
      opening->derive(field_key.value());  // no thread to be had (RLIMIT_NPROC): here, then
    }
  };
  // A return before the derivation is joined still waits for it: the
  // future of std::async blocks in its destructor, and it is destroyed
  // before the opening and the field key it uses.
  if (opening) derive();
  auto opened = open_database(d->config_.state.database);
  if (!opened) return opened.status();
  d->db_ = std::make_unique<Database>(std::move(opened.value()));
  if (!opening) {
    auto begun = Vault::begin_open(*d->db_);
    if (!begun) return begun.status();
    opening.emplace(std::move(begun.value()));
    derive();
  }
  auto settings = d->plan_node();
  auto interface = settings ? Node::open_interface(*settings) : Result<TunDevice>(settings.status());
  d->control_group_id_ = control::ControlServer::lookup_group(d->config_.control.group).id;
  if (derived.valid()) derived.get();
  field_key.value() = SecretBuffer();
  auto vault = Vault::finish_open(*d->db_, std::move(*opening));
  opening.reset();  // its copy of the key, wiped now rather than at return
  if (Status s = d->open_state(std::move(vault)); !s) return s;
  if (!interface) return interface.status();
  if (Status s = d->start_node(std::move(settings.value()), std::move(interface.value()), std::move(secret.value())); !s)
    return s;
  if (Status s = d->start_guard(); !s) return s;
  d->start_mss_clamp();
  d->network_ = std::make_unique<HostNetwork>(*d->guard_, d->vault_.get(), d->clock_);
  if (Status s = d->start_exit(); !s) return s;
  if (Status s = d->start_directory(); !s) return s;
  if (Status s = d->start_relay(); !s) return s;
  d->start_nat();
  d->node_->set_observers({.tunnels = d->recorder_.get(),
                           .network = d->network_.get(),
                           .more_tunnels = d->directory_.get(),
                           .control = d->directory_.get(),
                           .relay = d->relay_service_ ? static_cast<RelayListener*>(d->relay_service_.get())
                                                      : static_cast<RelayListener*>(d->relay_client_.get()),
                           .nat = d->nat_.get()});
  d->recorder_->settle_orphans();
  // Everything the first round trip needs is set up; the remaining steps
  // (about 1.5 ms: enrollment, control socket, metrics, key import,
  // capabilities) overlap it. If one of them fails, the peers answered a
  // node that then exits: their unconfirmed keys expire unused.
  d->node_->send_first_handshakes();
  if (Status s = d->start_enrollment(); !s) return s;
  if (Status s = d->serve_control(); !s) return s;
  if (Status s = d->serve_metrics(); !s) return s;

  // Only now, with everything open, does a key file's key move into the
  // vault, so a start that failed above leaves the state database as it was.
  if (d->import_needed_) {
    if (Status s = import_identity(*d->vault_, *d->identity_, d->config_.interface.identity_key_file, d->clock_.zeqond()); !s)
      return s;
  }
  d->identity_.reset();  // the node holds its own copy
  // Everything privileged is open: TUN queues, UDP sockets, the control
  // socket, the database.
  if (auto kept = drop_capabilities(); !kept) spdlog::warn("{}", kept.message());
  else spdlog::info("capabilities dropped; kept {}", *kept);
  return d;
}

// The vault (the derived key is all it keeps of the field key), the node's
// identity from it, and the tunnel records.
Status Daemon::open_state(Result<Vault> vault) {
  if (!vault) return vault.status();
  vault_ = std::make_unique<Vault>(std::move(vault.value()));
  auto identity = resolve_identity(*vault_, config_.interface.identity_key_file, clock_.zeqond());
  if (!identity) return identity.status();
  import_needed_ = identity->needs_import;
  identity_ = std::move(identity->identity);
  if (!config_.interface.zid.empty() && config_.interface.zid != identity_->zid) {
    spdlog::info("node ZID {} (interface.zid; its key's would be {})", config_.interface.zid, identity_->zid);
    identity_->zid = config_.interface.zid;
  }
  if (Status s = refuse_own_key_as_peer(config_, identity_->keypair.public_key); !s) return s;
  store_ = std::make_unique<TunnelStore>(*db_, *vault_, identity_->zid);
  recorder_ = std::make_unique<TunnelRecorder>(*store_, clock_, identity_->zid, [this](const std::string& zid) {
    TunnelTerms terms;
    for (const auto& p : config_.peers)
      if (p.zid == zid) terms = {p.billing_unit, p.billing_price};
    return terms;
  });
  return Status::ok();
}

// The node's settings as far as the configuration gives them: the exit
// role's plan says what the node offers, and its table goes in with the rest
// of the firewall (start_exit).
Result<NodeSettings> Daemon::plan_node() {
  auto exit_firewall = NftablesBackend::open();
  if (!exit_firewall) return exit_firewall.status();
  exit_firewall_ = std::move(exit_firewall.value());
  exit_server_ = std::make_unique<ExitServer>(*exit_firewall_);
  return node_settings(config_, exit_server_->plan(config_).offer);
}

// The rest of the settings, which need the node's identity (the mesh's
// trust in it), then the node on its interface.
Status Daemon::start_node(NodeSettings settings, TunDevice interface, SecretBuffer mesh_secret) {
  auto trust = load_mesh_trust(config_.mesh, identity_->keypair.public_key, identity_->zid, clock_.zeqond(), nullptr);
  if (!trust) return trust.status();
  trust_ = settings.trust = std::move(trust.value());
  // Read before start_guard points the system resolver at a peer.
  settings.endpoint_resolvers = endpoint_name_servers(config_);
  auto node = Node::create(settings, *identity_, std::move(mesh_secret), std::move(interface));
  if (!node) return node.status();
  node_ = std::move(node.value());
  return Status::ok();
}

// The mesh directory, with mesh.ca only (records are verified against it):
// the node's signing key (its certificate names it), the sync secret for
// PLAT ticks, the etcd password.
Status Daemon::start_directory() {
  if (config_.directory.backend == DirectoryBackend::kOff || !trust_ || trust_->store.empty()) return Status::ok();
  MeshDirectorySettings settings;
  settings.config = config_.directory;
  settings.listen_port = config_.interface.listen_port;
  settings.interface_name = config_.interface.name;
  if (config_.role == NodeRole::kRelay)
    settings.relay_offer = MeshDirectorySettings::RelayOffer{config_.relay.price_unit, config_.relay.price, config_.relay.region};
  auto sync = load_sync_credentials();
  if (!sync) return sync.status();
  settings.sync = std::move(sync.value());
  if (config_.directory.backend == DirectoryBackend::kEtcd) {
    auto password = load_etcd_password();
    if (!password) return password.status();
    settings.etcd_password = std::move(password.value());
  }
  auto directory = MeshDirectory::create(*node_, *db_, clock_, std::move(settings),
                                         node_signing_keypair(identity_->keypair.private_key.span()), identity_->zid);
  if (!directory) return directory.status();
  directory_ = std::move(directory.value());
  trust_ = directory_->merge_trust(trust_);
  node_->set_trust(trust_);
  return Status::ok();
}

// Relays: with `role: relay` the service that carries pairs (its metadata
// log opened now, so a bad path stops the start), on a node the client side;
// either writes its accounting through the RelayRecorder.
Status Daemon::start_relay() {
  relay_recorder_ = std::make_unique<RelayRecorder>(*store_, clock_);
  if (config_.role == NodeRole::kRelay) {
    const auto& r = config_.relay;
    metadata_log_ = std::make_unique<MetadataLog>(r.metadata_log, r.metadata_log_file, r.metadata_retention_z);
    if (Status s = metadata_log_->open(); !s) return s;
    RelayServiceSettings settings;
    settings.unit = r.price_unit;
    settings.price = r.price;
    settings.region = r.region;
    settings.client_bytes_per_s = r.limits.client_bytes_per_s;
    settings.pair_bytes_per_s = r.limits.pair_bytes_per_s;
    settings.pairs_per_client = r.limits.pairs_per_client;
    settings.queued_bytes_per_client = r.limits.queued_bytes_per_client;
    relay_service_ = std::make_unique<RelayService>(*node_, clock_, random_, settings, relay_recorder_.get(),
                                                    metadata_log_.get());
    spdlog::info("relay role: price {} per {}, metadata log {}", r.price, to_string(r.price_unit),
                 to_string(r.metadata_log));
    // Bound now: port 443 needs a capability the daemon drops after start.
    if (r.tcp_listen) {
      auto listener = RelayTcpListener::open({.listen = *r.tcp_listen, .node_port = config_.interface.listen_port});
      if (!listener) return listener.status();
      relay_tcp_listener_ = std::move(listener.value());
      relay_tcp_listener_->start();
    }
    return Status::ok();
  }
  RelayClientSettings settings;
  settings.max_price = config_.relay_choice.max_price;
  settings.direct_attempts = config_.relay_choice.direct_attempts;
  settings.signing = node_signing_keypair(identity_->keypair.private_key.span());
  relay_client_ = std::make_unique<RelayClient>(*node_, clock_, random_, std::move(settings), relay_recorder_.get());
  if (config_.relay_choice.tcp_port)
    relay_tcp_client_ = std::make_unique<RelayTcpClient>(
        *node_, clock_, random_,
        RelayTcpClientSettings{.port = config_.relay_choice.tcp_port,
                               .node_port = config_.interface.listen_port,
                               .fwmark = config_.kill_switch.fwmark});
  return Status::ok();
}

// NAT traversal: on a node, endpoint discovery through its relays, hole
// punching and the direct path's liveness; on a relay, answers only. Local
// address changes (netlink) make the node roam at once and republish.
void Daemon::start_nat() {
  NatTraversalSettings settings;
  settings.relay_role = config_.role == NodeRole::kRelay;
  settings.local_endpoints = [port = config_.interface.listen_port, name = config_.interface.name] {
    return local_endpoints(port, name, 16);
  };
  nat_ = std::make_unique<NatTraversal>(*node_, clock_, random_, std::move(settings));
  if (relay_client_) relay_client_->set_path_advisor(nat_.get());
  if (directory_) {
    directory_->set_reported_endpoints([this] { return nat_->reported_endpoints(); });
    nat_->set_endpoints_changed_hook([this] { directory_->republish_now(); });
  }
  if (settings.relay_role) return;
  auto watch = AddressWatch::start(node_->io(), node_->ifindex(), [this] { nat_->addresses_changed(); });
  if (!watch) {
    spdlog::warn("local address changes will not be followed at once: {}", watch.message());
    return;
  }
  address_watch_ = std::move(watch.value());
}

// The kill switch and the resolver, before any packet can leave: in `always`
// mode the node is armed before its first handshake.
Status Daemon::start_guard() {
  auto resolver = make_system_resolver(node_->ifindex(), config_.dns.resolv_conf,
                                       resolv_conf_backup_path(config_.state.database));
  if (!resolver) return resolver.status();
  auto firewall = NftablesBackend::open();
  if (!firewall) return firewall.status();
  guard_ = std::make_unique<NetworkGuard>(config_, std::move(firewall.value()), std::move(resolver.value()),
                                          kill_switch_boot_path(config_.state.database));
  if (Status s = guard_->start(); !s) return Status::error("kill switch: " + s.message());
  return Status::ok();
}

// TCP through the TUN clamped to its MTU while the daemon runs (a relay has
// no TUN); without nftables the node still runs, with a warning.
void Daemon::start_mss_clamp() {
  if (config_.role == NodeRole::kRelay) return;
  auto firewall = NftablesBackend::open();
  if (!firewall) {
    spdlog::warn("MSS clamp not installed: {}", firewall.message());
    return;
  }
  mss_clamp_ = std::make_unique<MssClamp>(std::move(firewall.value()));
  mss_clamp_->install({config_.interface.name, config_.interface.mtu});
}

// The exit role's forwarding table, then the exit in use (after removing
// what a killed run left), with its offers reaching the client through the
// HostNetwork.
Status Daemon::start_exit() {
  if (Status s = exit_server_->apply(exit_server_->plan(config_)); !s) return s;
  exit_client_ = std::make_unique<ExitClient>(*node_, *guard_, node_->ifindex());
  network_->set_exit_client(exit_client_.get());
  return exit_client_->start(config_);
}

// The bootstrap side of `zeqvpnctl mesh join`, with enrollment.listen only:
// the CA's private key, the mesh secret (a copy of its own: the node holds
// the other), this node's key and certificate.
Status Daemon::start_enrollment() {
  const auto& e = config_.enrollment;
  if (!e.listen) return Status::ok();
  auto ca = load_ca_private_key(e.ca_key);
  if (!ca) return Status::error("enrollment.ca_key: " + ca.message());
  auto secret = load_mesh_secret();
  if (!secret) return secret.status();
  auto cert = load_certificate(config_.mesh.certificate);
  if (!cert) return Status::error("mesh.certificate: " + cert.message());
  EnrollmentSettings settings{.config = e,
                              .ca = std::move(ca.value()),
                              .node_key = identity_->keypair,
                              .mesh_secret = std::move(secret.value()),
                              .own_certificate = std::move(cert.value()),
                              .udp_port = config_.interface.listen_port,
                              .interface_name = config_.interface.name,
                              .addresses_in_use = [this] { return addresses_in_mesh(); }};
  auto service = EnrollmentService::start(node_->io(), *db_, *vault_, clock_, random_, std::move(settings));
  if (!service) return service.status();
  enrollment_ = std::move(service.value());
  return Status::ok();
}

// The tunnel addresses of every peer this node knows: those its
// certificate names (nodes the directory or a handshake vouched for), and
// the host routes of YAML peers, so an enrollment never hands one out again.
std::vector<TakenAddress> Daemon::addresses_in_mesh() const {
  std::vector<TakenAddress> taken;
  for (const Peer* p : node_->peers()) {
    if (p->certificate)
      for (const auto& a : p->certificate->body.addresses) taken.push_back({a, p->settings.zid, p->settings.name});
    for (const auto& a : p->settings.allowed_ips)
      if (a.length == a.address_bytes() * 8) taken.push_back({a, p->settings.zid, p->settings.name});
  }
  return taken;
}

ControlContext Daemon::control_context() {
  ControlContext c{*node_, *guard_, *store_, *recorder_, *exit_client_, *exit_server_, [this] { return reload(); },
          [this] { return control_ ? control_->counters() : control::ControlCounters{}; },
          directory_.get(), relay_client_.get(), relay_service_.get(), relay_recorder_.get(),
          enrollment_.get()};
  if (config_.role != NodeRole::kRelay) c.nat = nat_.get();  // a relay only answers Observe
  c.relay_tcp_client = relay_tcp_client_.get();
  c.relay_tcp_listener = relay_tcp_listener_.get();
  return c;
}

Status Daemon::serve_control() {
  using control::ControlServer;
  auto server = ControlServer::listen(node_->io(), config_.control.socket,
                                      ControlServer::Group{config_.control.group, control_group_id_},
                                      make_control_handler(control_context()), ControlServer::Limits{});
  if (!server) return server.status();
  control_ = std::move(server.value());
  return Status::ok();
}

// The Prometheus endpoint, on the control thread beside the control socket:
// its text is made from the same parts, which only that thread may read
// (daemon/metrics_http_server.hpp says why that costs the thread little).
Status Daemon::serve_metrics() {
  if (!config_.metrics.listen) return Status::ok();
  auto server = MetricsHttpServer::listen(node_->io(), *config_.metrics.listen,
                                          [c = control_context()] { return prometheus_text(c); });
  if (!server) return server.status();
  metrics_ = std::move(server.value());
  return Status::ok();
}

int Daemon::run() {
  // Pings systemd's watchdog from the control thread, so a wedged event
  // loop (not just a dead process) gets the service restarted.
  watchdog_ = std::make_unique<PeriodicTask>(node_->io(), watchdog_interval(), [] { notify_watchdog(); });
  watchdog_->start(true);
  // The same tick ends the log's rate-limit window, so a flood's "... and N
  // more" line comes out even when nothing is logged after the flood.
  checkpoint_ = std::make_unique<PeriodicTask>(node_->io(), std::chrono::microseconds(zeqonds_to_us(CHECKPOINT_EVERY_Z)),
                                               [this] {
                                                 (void)recorder_->checkpoint();
                                                 (void)relay_recorder_->checkpoint();
                                                 flush_log();
                                                 // libnftables's ruleset cache (up to 2 MB) is not
                                                 // kept between the rare nftables commands.
                                                 (void)NftablesBackend::release_idle_context(std::chrono::seconds(1));
                                               });
  checkpoint_->start(false);
  if (directory_) {
    directory_->start();
    directory_tick_ = std::make_unique<PeriodicTask>(node_->io(), std::chrono::microseconds(SessionManager::TICK_US),
                                                     [this] { directory_->tick(); });
    directory_tick_->start(false);
  }
  if (relay_tcp_client_) {
    relay_tcp_tick_ = std::make_unique<PeriodicTask>(node_->io(), std::chrono::microseconds(SessionManager::TICK_US),
                                                     [this] { relay_tcp_client_->tick(); });
    relay_tcp_tick_->start(false);
  }
  node_->set_hooks({
      .on_ready = [this] { notify_ready("running; " + std::to_string(config_.peers.size()) + " peers"); },
      .on_stopping =
          [this] {
            notify_stopping();
            // Pairs end while the sessions that carry Close still exist,
            // and are settled in the ledger.
            if (relay_client_) relay_client_->close_all("daemon_stopped");
            if (relay_service_) relay_service_->close_all("daemon_stopped");
          },
      .on_reload_signal = [this] { (void)reload(); },
      // The resolver goes back while the TUN it was set on still exists.
      .on_teardown =
          [this] {
            if (directory_) directory_->stop();  // withdraws this node's etcd record while the network is up
            exit_client_->shutdown();
            exit_server_->shutdown();
            guard_->shutdown();
            if (mss_clamp_) mss_clamp_->remove();
          },
  });
  return node_->run();
}

Result<std::string> Daemon::reload() {
  notify_reloading();
  auto next = load_config_file(options_.config_path);
  Result<std::string> r = next ? apply(*next) : Result<std::string>(next.status());
  if (r) spdlog::info("reload of {}: {}", options_.config_path, *r);
  else spdlog::error("reload refused, the running configuration stays: {}", r.message());
  notify_ready("running; last reload " + std::string(r ? "applied" : "refused"));
  // A reload frees about a MiB of transient allocations, which glibc keeps
  // in the control thread's heap; left there, every daemon's RSS
  // steps up by it at its first reload (measured by bench/soak.sh). Reloads
  // are rare, so handing the free pages back costs nothing that matters.
#ifdef __GLIBC__
  malloc_trim(0);
#endif
  return r;
}

// The fixed settings must be as they run; then the node's routes, the guard
// (either can refuse, and then nothing has changed), the rest of the node,
// and the log level. Control, state, metrics and enrollment settings stay
// as they started: like the control socket, the metrics endpoint and the
// enrollment service are opened once.
Result<std::string> Daemon::apply(const Config& next) {
  std::string at_next_start;  // the settings of those that changed
  auto later = [&](bool changed, const char* name) {
    if (changed) at_next_start += (at_next_start.empty() ? "" : ", ") + std::string(name);
  };
  later(next.control.socket != config_.control.socket, "control.socket");
  later(next.control.group != config_.control.group, "control.group");
  later(next.state.database != config_.state.database, "state.database");
  later(next.metrics != config_.metrics, "metrics.listen");
  // The enrollment service holds the CA key it read and its listening
  // socket, bound before the capabilities went.
  later(next.enrollment != config_.enrollment, "enrollment");
  if (!at_next_start.empty())
    spdlog::warn("reload: {} {} effect at the next start; restart zeqvpnd to apply", at_next_start,
                 at_next_start.find(',') == std::string::npos ? "takes" : "take");
  if (Status s = check_reloadable(config_, next); !s) return s;
  const NodeStatus self = node_->status();
  const auto own = decode_key(self.public_key);
  if (!own) return Status::error("reload: the node's own public key is unreadable (" + self.public_key + ")");
  if (Status s = refuse_own_key_as_peer(next, *own); !s) return s;
  auto trust = load_mesh_trust(next.mesh, *own, self.zid, clock_.zeqond(), trust_.get());
  if (!trust) return trust.status();
  const ExitPlan exit_plan = exit_server_->plan(next), exit_was = exit_server_->applied();
  NodeSettings settings = node_settings(next, exit_plan.offer);
  settings.trust = directory_ ? directory_->merge_trust(trust.value()) : trust.value();
  auto change = node_->reload(settings, [&]() -> Status {
    if (Status s = exit_server_->apply(exit_plan); !s) return Status::error("reload: " + s.message());
    if (Status s = guard_->reconfigure(next); !s) {
      (void)exit_server_->apply(exit_was);
      return Status::error("reload: kill switch: " + s.message());
    }
    return Status::ok();
  });
  if (!change) {
    if (directory_) (void)directory_->merge_trust(trust_);  // the trust that still runs
    return change.status();
  }
  // After the peers changed, so that a new exit peer exists.
  if (Status s = exit_client_->reconfigure(next); !s)
    spdlog::error("reload: the rest is applied, but the exit is as before: {}", s.message());
  // Billing is the daemon's, not the node's: a peer whose terms alone
  // changed is updated all the same.
  for (const auto& p : next.peers) {
    std::string label = peer_settings(p).label();
    for (const auto& was : config_.peers) {
      if (was.zid != p.zid || (was.billing_unit == p.billing_unit && was.billing_price == p.billing_price)) continue;
      auto listed = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), label) != v.end(); };
      if (listed(change->updated) || listed(change->added)) continue;
      change->updated.push_back(label);
      if (change->unchanged > 0) --change->unchanged;
    }
  }
  spdlog::set_level(spdlog::level::from_str(next.log_level));
  trust_ = std::move(trust.value());
  if (directory_) directory_->reloaded(next.directory);
  Config running = next;
  running.control = config_.control;
  running.state = config_.state;
  running.metrics = config_.metrics;
  running.enrollment = config_.enrollment;
  config_ = std::move(running);
  if (!at_next_start.empty()) return change->summary() + "; " + at_next_start + ": restart zeqvpnd to apply";
  return change->summary();
}

}  // namespace zeq
