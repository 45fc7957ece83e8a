// zeqvpnd's parts, built in order and wired together: the configuration and
// secrets, the state database and its vault, the node, the network guard,
// the tunnel recorder, the control socket; then the event loop, reloads and
// teardown. main() parses the command line and hands over to this.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/random.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/key_file.hpp"

namespace zeq {

class Database;
class EnrollmentService;
struct TakenAddress;
class ExitClient;
class ExitServer;
class FirewallBackend;
class HostNetwork;
class AddressWatch;
class MeshDirectory;
class NatTraversal;
class MssClamp;
class MetricsHttpServer;
class NetworkGuard;
class Node;
struct NodeSettings;
class PeriodicTask;
class MetadataLog;
class RelayClient;
class RelayRecorder;
class RelayService;
class RelayTcpClient;
class RelayTcpListener;
class TunnelRecorder;
class TunnelStore;
class TunDevice;
struct ControlContext;
struct TrustSettings;
class Vault;
namespace control {
class ControlServer;
}

class Daemon {
 public:
  struct Options {
    std::string config_path;
    std::string log_level;  // overrides the file's when set
  };
  // Everything or nothing: an error is one line naming what is wrong and how
  // to fix it, and a failed start leaves nothing behind (no interface, no
  // change to the state database).
  static Result<std::unique_ptr<Daemon>> start(const Options& options);
  // `zeqvpnd --check`: configuration, secrets and key file, touching nothing.
  // Returns the line to print.
  static Result<std::string> check(const Options& options);
  ~Daemon();

  // Runs until SIGTERM or SIGINT; returns the exit code.
  int run();
  // Re-reads the configuration file and applies it (SIGHUP, `zeqvpnctl
  // reload`). On error nothing changes and the error says why.
  Result<std::string> reload();

 private:
  explicit Daemon(Options options);
  Status open_state(Result<Vault> vault);
  Result<NodeSettings> plan_node();
  Status start_node(NodeSettings settings, TunDevice interface, SecretBuffer mesh_secret);
  Status start_guard();
  void start_mss_clamp();
  Status start_exit();
  Status start_directory();
  Status start_relay();
  // NAT traversal and the address watch (after the relay and the directory).
  void start_nat();
  Status start_enrollment();
  std::vector<TakenAddress> addresses_in_mesh() const;
  ControlContext control_context();
  Status serve_control();
  Status serve_metrics();
  Result<std::string> apply(const Config& next);

  Options options_;
  Config config_;  // what runs: control and state as at start
  // The certificates' trust in force (null: none): a reload's revocation
  // lists never replace newer ones held here (daemon/mesh_trust_files.hpp).
  std::shared_ptr<const TrustSettings> trust_;
  SystemClock clock_;
  // Declared in the order of teardown's reverse: the node goes first (its
  // last tunnel_down events still reach the recorder and the guard), then
  // what it announced to.
  std::unique_ptr<Database> db_;
  std::unique_ptr<Vault> vault_;
  std::unique_ptr<TunnelStore> store_;
  std::unique_ptr<TunnelRecorder> recorder_;
  std::unique_ptr<NetworkGuard> guard_;
  std::unique_ptr<HostNetwork> network_;
  std::unique_ptr<FirewallBackend> exit_firewall_;
  std::unique_ptr<ExitServer> exit_server_;
  std::unique_ptr<MssClamp> mss_clamp_;  // null with the relay role (no TUN)
  // Hears the node's tunnels and messages until the node is gone; holds the
  // database's directory cache.
  std::unique_ptr<MeshDirectory> directory_;
  // Relays: the role's service (role: relay) or the client side (a node);
  // their accounting and the relay's metadata log. They hear the node until
  // it is gone.
  std::unique_ptr<RelayRecorder> relay_recorder_;
  std::unique_ptr<MetadataLog> metadata_log_;
  std::unique_ptr<RelayService> relay_service_;
  std::unique_ptr<RelayClient> relay_client_;
  // Relay over TCP: the relay's listener (relay.tcp_listen) or the node's
  // fallback (relay_choice.tcp_port); either null when off. The client uses
  // the node and goes before it.
  std::unique_ptr<RelayTcpListener> relay_tcp_listener_;
  std::unique_ptr<RelayTcpClient> relay_tcp_client_;
  std::unique_ptr<PeriodicTask> relay_tcp_tick_;
  // NAT traversal (endpoint discovery, hole punching); hears the node
  // until it is gone.
  std::unique_ptr<NatTraversal> nat_;
  SystemRandom random_;
  std::unique_ptr<Node> node_;
  // Uses the node and the guard; goes before either.
  std::unique_ptr<ExitClient> exit_client_;
  std::unique_ptr<control::ControlServer> control_;
  // control.group's id, looked up while the vault key is derived (a
  // millisecond of NSS), for serve_control; none: no such group.
  std::optional<gid_t> control_group_id_;
  std::unique_ptr<MetricsHttpServer> metrics_;  // metrics.listen; null when off
  std::unique_ptr<EnrollmentService> enrollment_;  // enrollment.listen; null when off
  std::unique_ptr<PeriodicTask> watchdog_, checkpoint_, directory_tick_;
  // Local address and route changes (roaming); on the node's loop.
  std::unique_ptr<AddressWatch> address_watch_;
  // Until the node has its own copy; a key file's key moves into the vault
  // only once start-up has succeeded.
  std::optional<LocalIdentity> identity_;
  bool import_needed_ = false;
};

}  // namespace zeq
