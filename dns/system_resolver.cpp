#include "dns/system_resolver.hpp"

#include <spdlog/spdlog.h>

#include "dns/resolv_conf.hpp"
#include "dns/resolved.hpp"

namespace zeq {

Result<std::unique_ptr<SystemResolver>> make_system_resolver(int ifindex, const std::string& resolv_conf,
                                                             const std::string& backup_path) {
  // Whatever backend runs now, a file replaced by a run that died comes back.
  auto file = std::make_unique<ResolvConf>(resolv_conf, backup_path);
  auto recovered = file->recover();
  if (!recovered) return recovered.status();
  if (*recovered) spdlog::warn("dns: restored {} from {}, left by a zeqvpnd that did not stop cleanly", resolv_conf, backup_path);
  if (Resolved::running()) return std::unique_ptr<SystemResolver>(std::make_unique<Resolved>(ifindex));
  return std::unique_ptr<SystemResolver>(std::move(file));
}

}  // namespace zeq
