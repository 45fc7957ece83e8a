// zeqvpnd: reads the configuration and secrets, sets the node up and runs it
// until SIGTERM/SIGINT. Start-up errors are one line naming what is wrong and
// how to fix it, and exit non-zero with nothing left behind.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <spdlog/spdlog.h>

#include "config/config.hpp"
#include "config/secrets.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/key_file.hpp"
#include "mesh/node.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zeqvpnd: the zeqvpn mesh VPN daemon"};
  std::string config_path = "/etc/zeqvpn/zeqvpn.yaml";
  std::string log_level;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "YAML configuration file")->capture_default_str();
  app.add_option("-l,--log-level", log_level, "trace, debug, info, warn or error (overrides the file)");
  app.add_flag("--check", check_only, "validate configuration, secret and key, then exit");
  app.set_version_flag("--version", std::string("zeqvpnd ") + zeq::VERSION + " (" + zeq::PROTOCOL_VERSION_NAME + ")");
  CLI11_PARSE(app, argc, argv);

  forbid_core_dumps();
  zeq::crypto_init();

  auto config = zeq::load_config_file(config_path);
  if (!config) return fail(config.message());
  if (zeq::Status s = zeq::init_logging(log_level.empty() ? config->log_level : log_level); !s) return fail(s.message());

  auto secret = zeq::load_mesh_secret();
  if (!secret) return fail(secret.message());
  auto identity = zeq::load_identity_key_file(config->interface.identity_key_file);
  if (!identity) return fail(identity.message());
  if (check_only) {
    std::printf("%s: configuration valid; node %s, %zu peers\n", config_path.c_str(), identity->zid.c_str(),
                config->peers.size());
    return 0;
  }

  auto node = zeq::Node::create(*config, std::move(identity.value()), std::move(secret.value()));
  if (!node) return fail(node.message());
  return node.value()->run();
}
