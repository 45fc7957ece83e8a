// zeqvpnd: reads the configuration and secrets, opens the state database and
// its vault, sets the node up, serves the control socket, drops privileges and
// runs until SIGTERM/SIGINT. SIGHUP reloads. Start-up errors are one line
// naming what is wrong and how to fix it, and exit non-zero with nothing left
// behind.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "config/config.hpp"
#include "config/secrets.hpp"
#include "control/control_server.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "crypto/secret_bytes.hpp"
#include "daemon/control_handler.hpp"
#include "daemon/node_identity.hpp"
#include "daemon/privileges.hpp"
#include "daemon/service_notify.hpp"
#include "identity/key_file.hpp"
#include "mesh/node.hpp"
#include "store/schema.hpp"
#include "store/tunnel_store.hpp"
#include "store/vault.hpp"

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "zeqvpnd: %s\n", message.c_str());
  return 1;
}

// Key material must not end up in core files.
void forbid_core_dumps() {
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0);
}

zeq::Result<zeq::Database> open_state(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return zeq::Status::error("state.database " + path + ": cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  auto db = zeq::Database::open(path);
  if (!db) return db.status();
  if (zeq::Status s = zeq::migrate(*db); !s) return s;
  return db;
}

// Pings systemd's watchdog from the control thread, so a wedged event loop
// (not just a dead process) gets the service restarted.
struct Watchdog {
  explicit Watchdog(boost::asio::io_context& io) : timer(io), every(zeq::watchdog_interval()) {}
  void start() {
    if (every.count() == 0) return;
    zeq::notify_watchdog();
    timer.expires_after(every);
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) start();
    });
  }
  boost::asio::steady_timer timer;
  std::chrono::microseconds every;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zeqvpnd: the zeqvpn mesh VPN daemon"};
  std::string config_path = zeq::DEFAULT_CONFIG_PATH;
  std::string log_level;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "YAML configuration file")->capture_default_str();
  app.add_option("-l,--log-level", log_level, "trace, debug, info, warn or error (overrides the file)");
  app.add_flag("--check", check_only, "validate configuration, secrets and key file, then exit");
  app.set_version_flag("--version", std::string("zeqvpnd ") + zeq::VERSION + " (" + zeq::PROTOCOL_VERSION_NAME + ")");
  CLI11_PARSE(app, argc, argv);

  forbid_core_dumps();
  zeq::crypto_init();

  auto config = zeq::load_config_file(config_path);
  if (!config) return fail(config.message());
  if (zeq::Status s = zeq::init_logging(log_level.empty() ? config->log_level : log_level); !s) return fail(s.message());

  auto secret = zeq::load_mesh_secret();
  if (!secret) return fail(secret.message());
  auto field_key = zeq::load_field_key();
  if (!field_key) return fail(field_key.message());
  if (check_only) {
    std::string who = "identity from the vault";
    if (!config->interface.identity_key_file.empty()) {
      auto id = zeq::load_identity_key_file(config->interface.identity_key_file);
      if (!id) return fail(id.message());
      who = "node " + id->zid;
    }
    std::printf("%s: configuration valid; %s, %zu peers\n", config_path.c_str(), who.c_str(), config->peers.size());
    return 0;
  }

  zeq::SystemClock clock;
  auto db = open_state(config->state.database);
  if (!db) return fail(db.message());
  auto vault = zeq::Vault::open(*db, *field_key);
  field_key = zeq::Status::error("wiped");  // the derived key is all the vault needs
  if (!vault) return fail(vault.message());
  auto identity = zeq::resolve_identity(*vault, config->interface.identity_key_file, clock.zeqond());
  if (!identity) return fail(identity.message());
  zeq::TunnelStore tunnels(*db, *vault, identity->identity.zid);
  bool import = identity->needs_import;

  auto created = zeq::Node::create(*config, identity->identity, std::move(secret.value()), &tunnels);
  if (!created) return fail(created.message());
  zeq::Node& node = *created.value();

  auto reload = [&]() -> zeq::Result<std::string> {
    zeq::notify_reloading();
    auto next = zeq::load_config_file(config_path);
    if (next && (next->control.socket != config->control.socket || next->control.group != config->control.group ||
                 next->state.database != config->state.database))
      spdlog::warn("reload: control and state settings take effect at the next start");
    zeq::Result<std::string> r = next ? node.reload(*next) : zeq::Result<std::string>(next.status());
    if (r) spdlog::info("reload of {}: {}", config_path, *r);
    else spdlog::error("reload refused, the running configuration stays: {}", r.message());
    zeq::notify_ready("running; last reload " + std::string(r ? "applied" : "refused"));
    return r;
  };

  auto control = zeq::control::ControlServer::listen(node.io(), config->control.socket, config->control.group,
                                                      zeq::make_control_handler(node, tunnels, reload));
  if (!control) return fail(control.message());

  // Start-up can no longer fail: only now does a key file's key move into
  // the vault, so a failed start leaves the state database as it was.
  if (import) {
    if (zeq::Status s = zeq::import_identity(*vault, identity->identity, config->interface.identity_key_file, clock.zeqond()); !s)
      return fail(s.message());
  }
  identity = zeq::Status::error("wiped");  // the node holds its own copy

  // Everything privileged is open now: TUN queues, UDP sockets, the control
  // socket, the database.
  if (auto kept = zeq::drop_capabilities(); !kept) spdlog::warn("{}", kept.message());
  else spdlog::info("capabilities dropped; kept {}", *kept);

  Watchdog watchdog(node.io());
  watchdog.start();
  node.set_hooks({
      .on_ready = [&] { zeq::notify_ready("running; " + std::to_string(node.config().peers.size()) + " peers"); },
      .on_stopping = [] { zeq::notify_stopping(); },
      .on_reload_signal = [&] { (void)reload(); },
  });
  int rc = node.run();
  control.value().reset();
  return rc;
}
