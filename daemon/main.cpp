// zeqvpnd: the command line, then Daemon (daemon.hpp) does the rest. Start-up
// errors are one line naming what is wrong and how to fix it, and exit
// non-zero with nothing left behind.
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "config/config.hpp"
#include "core/version.hpp"
#include "crypto/secret_bytes.hpp"
#include "daemon/daemon.hpp"
#include "firewall/nftables_backend.hpp"

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

// glibc raises its mmap threshold to the size of any large block freed
// (libnftables frees a 2 MB netlink batch at start-up), after which large
// blocks come from the heap, which never shrinks below what start-up
// touched. A fixed threshold keeps blocks of 256 KB and more in their own
// mappings: returned when freed, and resident only where written. (The
// workers' batch buffers and the control queue's rings map their own.)
//
// Below it, start-up lets the heap keep what is freed (trim threshold 8 MB):
// libnftables builds four fresh 128 KB hash tables for every table it parses
// or reads back from the kernel, at every command, and with those returned to
// the kernel after each command (as a 128 KB threshold did) every command
// paid for them again in zero-filled pages: a start took 2 350 page faults
// then and 1 530 with this, at 13-20 µs each on the 2-core VM (issue 14,
// perf record -e page-faults).
void heap_for_start_up() {
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
}

// Once started, free heap is given back again (glibc's default trim
// threshold), starting with what start-up left, and blocks of 128 KB and
// more get their own mappings again: a later nftables command (a reload, a
// status or metrics read of the counters) builds its 2 MB of hash tables
// there and returns them whole, where the heap would keep the pages of
// those it freed below its top, so a running daemon's resident size is what
// it uses.
void heap_for_running() {
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  malloc_trim(0);
  zeq::NftablesBackend::return_memory_after_each_command(true);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zeqvpnd: the zeqvpn mesh VPN daemon"};
  zeq::Daemon::Options options{zeq::DEFAULT_CONFIG_PATH, ""};
  bool check_only = false;
  app.add_option("-c,--config", options.config_path, "YAML configuration file")->capture_default_str();
  app.add_option("-l,--log-level", options.log_level, "trace, debug, info, warn or error (overrides the file)");
  app.add_flag("--check", check_only, "validate configuration, secrets and key file, then exit");
  app.set_version_flag("--version", std::string("zeqvpnd ") + zeq::VERSION + " (" + zeq::PROTOCOL_VERSION_NAME + ")");
  CLI11_PARSE(app, argc, argv);

  forbid_core_dumps();
  heap_for_start_up();
  zeq::crypto_init();

  if (check_only) {
    auto checked = zeq::Daemon::check(options);
    if (!checked) return fail(checked.message());
    std::printf("%s\n", checked->c_str());
    return 0;
  }
  auto daemon = zeq::Daemon::start(options);
  if (!daemon) return fail(daemon.message());
  heap_for_running();
  return daemon.value()->run();
}
