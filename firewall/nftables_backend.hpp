// The firewall on Linux: tables inet zeqvpn (kill switch, leak blocks),
// inet zeqvpn_exit (exit forwarding) and ip/ip6 zeqvpn (MSS clamp) through
// libnftables (the library, not the nft binary), in the network namespace of
// the caller.
#pragma once

#include <memory>

#include "firewall/firewall_backend.hpp"

struct nft_ctx;

namespace zeq {

class NftablesBackend final : public FirewallBackend {
 public:
  static Result<std::unique_ptr<NftablesBackend>> open();
  ~NftablesBackend() override;

  Status apply(const FirewallPolicy& policy) override;
  Result<bool> installed() override;
  std::map<std::string, uint64_t> blocked_counts() override;
  Status apply_exit(const ExitPolicy& policy) override;
  std::map<std::string, uint64_t> exit_counts() override;
  Status apply_mss_clamp(const MssClampPolicy& policy) override;

 private:
  explicit NftablesBackend(nft_ctx* ctx) : ctx_(ctx) {}
  // Runs commands as one transaction; output in `out` when asked for.
  // `tables` names what they touch in an error ("table inet zeqvpn").
  Status run(const std::string& commands, std::string* out = nullptr, const std::string& tables = "");
  std::map<std::string, uint64_t> counters_of(const char* table);
  nft_ctx* ctx_;
};

}  // namespace zeq
