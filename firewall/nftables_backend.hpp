// The firewall on Linux: tables inet zeqvpn (kill switch, leak blocks),
// inet zeqvpn_exit (exit forwarding) and inet zeqvpn_mss (MSS clamp) through
// libnftables (the library, not the nft binary), in the network namespace of
// the caller.
//
// Every backend open in a process shares one libnftables context: a context
// keeps its own copy of the ruleset cache, 0.7-2.2 MB resident once it has
// run a command, and the daemon has three users (kill switch, exit
// forwarding, MSS clamp). Commands on the shared context are serialized.
// The context, cache and all, can be freed while idle and is made again by
// the next command (about 40 us).
#pragma once

#include <chrono>
#include <memory>

#include "firewall/firewall_backend.hpp"

namespace zeq {

struct NftContext;

class NftablesBackend final : public FirewallBackend {
 public:
  static Result<std::unique_ptr<NftablesBackend>> open();
  ~NftablesBackend() override;

  // With `on`, every command ends with malloc_trim(0) (glibc): a command
  // allocates a few megabytes (the parsed ruleset, four 128 KB hash tables
  // per table it reads) and frees most of it, and the heap keeps the pages
  // of what it freed below its top resident. zeqvpnd turns this on once
  // started; during start-up its heap keeps such pages on purpose, for the
  // next command (daemon/main.cpp).
  static void return_memory_after_each_command(bool on);

  // Frees the shared context (its ruleset cache with it) when no command has
  // run on it for `idle`; true if it did. Not right after a command: freeing
  // closes the context's netlink socket, and the kernel makes that close
  // wait for the last commit's deferred clean-up (12-24 ms measured with
  // strace), which is long over a second later. zeqvpnd calls it every
  // Zeqond.
  static bool release_idle_context(std::chrono::milliseconds idle);

  Status apply(const FirewallPolicy& policy) override;
  Result<bool> installed() override;
  std::map<std::string, uint64_t> blocked_counts() override;
  Status apply_exit(const ExitPolicy& policy) override;
  std::map<std::string, uint64_t> exit_counts() override;
  Status apply_mss_clamp(const MssClampPolicy& policy) override;

 private:
  explicit NftablesBackend(std::shared_ptr<NftContext> ctx) : ctx_(std::move(ctx)) {}
  // Runs commands as one transaction; output in `out` when asked for.
  // `tables` names what they touch in an error ("table inet zeqvpn").
  Status run(const std::string& commands, std::string* out = nullptr, const std::string& tables = "");
  std::map<std::string, uint64_t> counters_of(const char* table);
  std::shared_ptr<NftContext> ctx_;
};

}  // namespace zeq
