// The kill switch on Linux: table inet zeqvpn through libnftables (the
// library, not the nft binary), in the network namespace of the caller.
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

 private:
  explicit NftablesBackend(nft_ctx* ctx) : ctx_(ctx) {}
  // Runs commands as one transaction; output in `out` when asked for.
  Status run(const std::string& commands, std::string* out = nullptr);
  nft_ctx* ctx_;
};

}  // namespace zeq
