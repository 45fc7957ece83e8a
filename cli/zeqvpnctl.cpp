// zeqvpnctl: the operator's command-line tool. Key and secret commands work
// offline; the rest talk to a running zeqvpnd over its control socket.
// Exit codes (docs/control.md): 0 done, 1 the command failed, 2 bad
// arguments, 3 zeqvpnd not running, 4 permission denied, 5 unknown peer.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>

#include "config/config.hpp"
#include "control/control_client.hpp"
#include "control/control_protocol.hpp"
#include "cli/ca_commands.hpp"
#include "cli/completion.hpp"
#include "cli/mesh_commands.hpp"
#include "cli/ctl_output.hpp"
#include "cli/zeqauth_commands.hpp"
#include "core/bytes.hpp"
#include "core/version.hpp"
#include "crypto/random.hpp"
#include "crypto/x25519.hpp"
#include "dns/resolv_conf.hpp"
#include "firewall/nftables_backend.hpp"
#include "identity/certificate.hpp"
#include "identity/key_file.hpp"
#include "identity/zid.hpp"
#include "loader/loader.hpp"

namespace {

enum Exit { kOk = 0, kFailed = 1, kUsage = 2, kNotRunning = 3, kDenied = 4, kUnknownPeer = 5 };

struct Options {
  std::string socket;
  std::string config;
  bool json = false;
};

std::string read_stdin() {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  return text;
}

[[noreturn]] void die(Exit code, const std::string& message) {
  std::fprintf(stderr, "zeqvpnctl: %s\n", message.c_str());
  std::exit(code);
}

std::string socket_path(const Options& o) {
  if (!o.config.empty()) {
    auto c = zeq::load_config_file(o.config);
    if (!c) die(kUsage, c.message());
    return c->control.socket;
  }
  if (!o.socket.empty()) return o.socket;
  if (const char* env = std::getenv("ZEQVPN_SOCKET"); env && *env) return env;
  return zeq::ControlConfig{}.socket;
}

// The daemon's reply; on failure prints the reason and exits with its code.
nlohmann::json checked(const std::string& cmd, const zeq::control::CallResult& r) {
  switch (r.kind) {
    case zeq::control::CallResult::kOk: return r.result;
    case zeq::control::CallResult::kNotRunning: die(kNotRunning, r.message);
    case zeq::control::CallResult::kPermissionDenied: die(kDenied, r.message);
    case zeq::control::CallResult::kDaemonError:
      die(r.code == zeq::control::UNKNOWN_PEER ? kUnknownPeer : r.code == zeq::control::BAD_REQUEST ? kUsage : kFailed,
          cmd + ": " + r.message);
    case zeq::control::CallResult::kProtocolError: die(kFailed, r.message);
  }
  die(kFailed, "unreachable");
}

nlohmann::json call(const Options& o, const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) {
  return checked(cmd, zeq::control::call(socket_path(o), cmd, args));
}

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump(2).c_str()); }

// The daemon's reply as JSON with --json, else as `format` renders it.
void show(const Options& o, const nlohmann::json& reply, std::string (*format)(const nlohmann::json&)) {
  if (o.json) print_json(reply);
  else std::fputs(format(reply).c_str(), stdout);
}

std::string fresh_hex32() {
  std::array<uint8_t, 32> b{};
  zeq::random_fill(b);
  std::string hex = zeq::to_hex(b);
  zeq::secure_wipe(b.data(), b.size());
  return hex;
}

void gen_secrets(const std::string& output, bool force, const std::string& only) {
  std::string text;
  if (only.empty() || only == "mesh") text += "ZEQ_MESH_SECRET=" + fresh_hex32() + "\n";
  if (only.empty() || only == "field") text += "ZEQ_FIELD_KEY=" + fresh_hex32() + "\n";
  if (output.empty() || output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
    int fd = open(output.c_str(), flags, 0600);
    if (fd < 0) {
      int err = errno;
      zeq::secure_wipe(text.data(), text.size());
      if (err == EEXIST) die(kFailed, output + " exists; it may hold the secrets of a running mesh. Use --force to replace it");
      die(kFailed, output + ": " + std::strerror(err));
    }
    bool ok = fchmod(fd, 0600) == 0 && write(fd, text.data(), text.size()) == ssize_t(text.size()) && fsync(fd) == 0;
    close(fd);
    if (!ok) die(kFailed, output + ": writing failed: " + std::strerror(errno));
    std::fprintf(stderr, "zeqvpnctl: wrote %s (mode 0600); use it as the unit's EnvironmentFile=, or (made with "
                         "--only) as a LoadCredential= file as it is. Every node needs the same ZEQ_MESH_SECRET and "
                         "its own ZEQ_FIELD_KEY.\n",
                 output.c_str());
  }
  zeq::secure_wipe(text.data(), text.size());
}

// With the daemon gone (always mode leaves the rules after a crash or stop),
// disarm removes table inet zeqvpn itself and puts back a resolv.conf the
// daemon replaced; status reports what is installed.
void killswitch_offline(const Options& o, const std::string& action) {
  zeq::Config c;
  std::string file = o.config.empty() ? zeq::DEFAULT_CONFIG_PATH : o.config;
  if (auto loaded = zeq::load_config_file(file)) c = *loaded;
  else if (!o.config.empty()) die(kUsage, loaded.message());
  auto nft = zeq::NftablesBackend::open();
  if (!nft) die(kFailed, nft.message());
  auto installed = (*nft)->installed();
  if (!installed) die(kFailed, installed.message());
  if (action == "status") {
    std::printf("zeqvpnd is not running; kill switch rules (table inet %s) %s\n", zeq::FIREWALL_TABLE,
                *installed ? "are installed and block traffic" : "are not installed");
    std::exit(*installed ? kOk : kNotRunning);
  }
  if (action == "arm") die(kNotRunning, "killswitch arm needs a running zeqvpnd (its config says what to let through)");
  if (zeq::Status s = (*nft)->apply(zeq::FirewallPolicy{}); !s) die(kFailed, s.message());
  zeq::ResolvConf resolv(c.dns.resolv_conf, zeq::resolv_conf_backup_path(c.state.database));
  auto restored = resolv.recover();
  if (!restored) die(kFailed, restored.message());
  std::printf("kill switch disarmed (zeqvpnd not running)%s\n", *restored ? ("; " + c.dns.resolv_conf + " restored").c_str() : "");
}

void killswitch_command(const Options& o, const std::string& action) {
  auto r = zeq::control::call(socket_path(o), "killswitch", {{"action", action}});
  if (r.kind == zeq::control::CallResult::kNotRunning) return killswitch_offline(o, action);
  auto result = checked("killswitch", r);
  show(o, result, zeq::ctl::format_guard);
}

void config_check(const std::string& file) {
  auto c = zeq::load_config_file(file);
  if (!c) die(kFailed, c.message());
  std::string identity = "identity from the vault in " + c->state.database;
  if (!c->interface.identity_key_file.empty()) {
    auto id = zeq::load_identity_key_file(c->interface.identity_key_file);
    if (!id) die(kFailed, id.message());
    if (zeq::Status s = zeq::refuse_own_key_as_peer(*c, id->keypair.public_key); !s) die(kFailed, s.message());
    identity = "node " + id->zid;
  }
  std::printf("%s: valid; %s, interface %s, UDP %u, %zu peers, control socket %s, state %s\n", file.c_str(),
              identity.c_str(), c->interface.name.c_str(), c->interface.listen_port, c->peers.size(),
              c->control.socket.c_str(), c->state.database.c_str());
}

// The running daemon's peer names (ZIDs for unnamed peers), for the shell
// completion scripts: nothing, and no message, when it cannot be asked.
std::vector<std::string> peer_names(const Options& o) {
  std::string path = o.socket;
  if (!o.config.empty()) {
    auto c = zeq::load_config_file(o.config);
    if (!c) return {};
    path = c->control.socket;
  } else if (path.empty()) {
    const char* env = std::getenv("ZEQVPN_SOCKET");
    path = env && *env ? env : zeq::ControlConfig{}.socket;
  }
  auto r = zeq::control::call(path, "peers", nlohmann::json::object(), 1000);
  std::vector<std::string> names;
  if (r.kind != zeq::control::CallResult::kOk || !r.result.contains("peers") || !r.result["peers"].is_array()) return names;
  for (const auto& p : r.result["peers"]) {
    std::string name = p.value("name", "");
    if (name.empty()) name = p.value("zid", "");
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

// The values the subcommands' options fill; they outlive parsing.
struct Args {
  int limit = zeq::control::DEFAULT_TUNNEL_ROWS;
  std::string peer, cover_action, cover_peer, killswitch_action, exit_action, exit_peer;
  std::string output, only, file;
  bool force = false, signing = false;
};

// status, peers and tunnels: the node as it runs.
void add_node_commands(CLI::App& app, Options& o, Args& a) {
  app.add_subcommand("status", "node, interface, uptime, Zeqond and every peer's tunnel")->callback([&] {
    show(o, call(o, "status"), zeq::ctl::format_status);
  });
  app.add_subcommand("peers", "every configured peer and its tunnel")->callback([&] {
    show(o, call(o, "peers"), zeq::ctl::format_peers);
  });
  auto* tunnels = app.add_subcommand("tunnels", "tunnel lifecycle rows from the state database (vpn_tunnels)");
  tunnels->add_option("-n,--limit", a.limit, "newest rows to show")
      ->capture_default_str()
      ->check(CLI::Range(1, zeq::control::MAX_TUNNEL_ROWS));
  tunnels->callback([&] { show(o, call(o, "tunnels", {{"limit", a.limit}}), zeq::ctl::format_tunnels); });
}

// up, down, rekey, cover, killswitch, reload and metrics: acting on the
// running node (in the order --help has always listed them).
void add_operator_commands(CLI::App& app, Options& o, Args& a) {
  for (auto [name, help] : {std::pair{"up", "bring PEER's tunnel up (undoes down) and handshake now"},
                            std::pair{"down", "take PEER's tunnel down: keys wiped, handshakes refused until up"},
                            std::pair{"rekey", "handshake with PEER now for fresh keys"}}) {
    auto* sub = app.add_subcommand(name, help);
    sub->add_option("PEER", a.peer, "the peer's name or ZID")->required();
    sub->callback([&o, &a, cmd = std::string(name)] {
      auto r = call(o, cmd, {{"peer", a.peer}});
      if (o.json) print_json(r);
      else std::printf("%s: %s\n", a.peer.c_str(), r.value("message", "done").c_str());
    });
  }
  auto* cover = app.add_subcommand("cover", "cover traffic: on, off or status, for PEER or every peer");
  cover->add_option("ACTION", a.cover_action, "on, off or status")->required()->check(CLI::IsMember({"on", "off", "status"}));
  cover->add_option("PEER", a.cover_peer, "a peer's name or ZID (default: every peer)");
  cover->callback([&] {
    show(o, call(o, "cover", {{"action", a.cover_action}, {"peer", a.cover_peer}}), zeq::ctl::format_cover);
  });
  auto* killswitch =
      app.add_subcommand("killswitch", "kill switch: status, arm or disarm (disarm also works with zeqvpnd stopped)");
  killswitch->add_option("ACTION", a.killswitch_action, "status, arm or disarm")
      ->required()
      ->check(CLI::IsMember({"status", "arm", "disarm"}));
  killswitch->callback([&] { killswitch_command(o, a.killswitch_action); });
  auto* exit = app.add_subcommand("exit", "exit node: use PEER, off, or status (send all traffic out through a peer)");
  exit->add_option("ACTION", a.exit_action, "use, off or status")->required()->check(CLI::IsMember({"use", "off", "status"}));
  exit->add_option("PEER", a.exit_peer, "with use: the exit peer's name or ZID");
  exit->callback([&] {
    if (a.exit_action == "use" && a.exit_peer.empty()) die(kUsage, "exit use needs PEER: the exit peer's name or ZID");
    if (a.exit_action != "use" && !a.exit_peer.empty()) die(kUsage, "exit " + a.exit_action + " takes no PEER");
    nlohmann::json args = {{"action", a.exit_action}};
    if (!a.exit_peer.empty()) args["peer"] = a.exit_peer;
    show(o, call(o, "exit", args), zeq::ctl::format_exit);
  });
  app.add_subcommand("directory", "the mesh directory: records held (age, source, verification), sync state, rejects")
      ->callback([&] { show(o, call(o, "directory"), zeq::ctl::format_directory); });
  app.add_subcommand("relays", "relays: those this node may use (round trip, price) and its relayed pairs; on a relay, the pairs it carries")
      ->callback([&] { show(o, call(o, "relays"), zeq::ctl::format_relays); });
  app.add_subcommand("reload", "re-read the configuration file (as SIGHUP does)")->callback([&] {
    auto r = call(o, "reload");
    if (o.json) print_json(r);
    else std::printf("reloaded: %s\n", r.value("summary", "").c_str());
  });
  app.add_subcommand("metrics", "counters in Prometheus text format")->callback([&] {
    auto r = call(o, "metrics");
    if (o.json) print_json(r);
    else std::fputs(r.value("text", "").c_str(), stdout);
  });
}

// Keys, secrets and files: no daemon needed.
void add_offline_commands(CLI::App& app, Args& a) {
  zeq::ctl::add_zeqauth_commands(app);  // genkey [--equation], zeqauth zid
  auto* pubkey = app.add_subcommand("pubkey", "read a private key on stdin, print its public key");
  pubkey->add_flag("--signing", a.signing, "print the node's Ed25519 signing key instead (for `ca sign --signing-key`)");
  pubkey->callback([&a] {
    std::string text = read_stdin();
    auto id = zeq::identity_from_private_key_text(text);
    zeq::secure_wipe(text.data(), text.size());
    if (!id) die(kFailed, "pubkey: stdin: " + id.message());
    auto key = a.signing ? zeq::node_signing_keypair(id->keypair.private_key.span()).public_key : id->keypair.public_key;
    std::printf("%s\n", zeq::encode_key(key).c_str());
  });
  app.add_subcommand("zid", "read a public key on stdin (as pubkey prints it), print the node's ZID")->callback([] {
    std::string text = read_stdin();
    auto key = zeq::decode_key(text);
    if (!key) die(kFailed, "zid: stdin: expected a public key as `zeqvpnctl pubkey` prints it");
    std::printf("%s\n", zeq::zid_from_public_key(*key).c_str());
  });
  auto* secrets =
      app.add_subcommand("gen-secrets", "make a fresh ZEQ_MESH_SECRET and ZEQ_FIELD_KEY (environment-file lines)");
  secrets->add_option("-o,--output", a.output, "write to FILE with mode 0600 instead of printing");
  secrets->add_flag("--force", a.force, "replace an existing FILE");
  secrets->add_option("--only", a.only, "just one of them: mesh or field")->check(CLI::IsMember({"mesh", "field"}));
  secrets->callback([&] { gen_secrets(a.output, a.force, a.only); });
  auto* config = app.add_subcommand("config", "configuration files");
  config->require_subcommand(1);
  auto* check = config->add_subcommand("check", "validate FILE without starting anything");
  check->add_option("FILE", a.file, "zeqvpnd YAML configuration")->required();
  check->callback([&] { config_check(a.file); });
  app.add_subcommand("version", "print the version")->callback([] {
    std::printf("zeqvpnctl %s (%s)\n", zeq::VERSION, zeq::PROTOCOL_VERSION_NAME);
  });
}

}  // namespace

int main(int argc, char** argv) {
  zeq::crypto_init();
  CLI::App app{"zeqvpnctl: control and key tool for zeqvpn.\n"
               "Exit codes: 0 done, 1 failed, 2 bad arguments, 3 zeqvpnd not running, 4 permission denied, 5 unknown peer."};
  app.require_subcommand(1);
  Options o;
  Args a;
  app.add_option("-s,--socket", o.socket, "control socket (default $ZEQVPN_SOCKET or /run/zeqvpn/zeqvpnd.sock)");
  app.add_option("-c,--config", o.config, "take the control socket path from this zeqvpnd configuration file");
  app.add_flag("--json", o.json, "print the daemon's reply as JSON");
  add_node_commands(app, o, a);
  add_operator_commands(app, o, a);
  add_offline_commands(app, a);
  zeq::ctl::add_ca_commands(app);  // ca init|sign|revoke, cert show|verify
  zeq::ctl::add_mesh_commands(app, {[&o](const std::string& cmd, const nlohmann::json& args) { return call(o, cmd, args); },
                                    [&o] { return o.json; }});  // mesh init|invite|invites|revoke|join
  zeq::ctl::add_completion_command(app, [&o] { return peer_names(o); });  // hidden
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  return kOk;
}
