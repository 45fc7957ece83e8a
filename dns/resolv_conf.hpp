// /etc/resolv.conf (or the configured path) pointed at the peer's resolver.
// The original content is saved to a backup file (mode 0600, fsync'd) before
// the first change; restore() writes it back and removes the backup. The
// file is rewritten in place rather than renamed over, so a bind-mounted
// resolv.conf (containers, `ip netns exec`) works too.
#pragma once

#include "dns/system_resolver.hpp"

namespace zeq {

// Where the original resolv.conf is kept: next to the state database, so it
// outlives a crash and is found by the next start and by `zeqvpnctl
// killswitch disarm`.
std::string resolv_conf_backup_path(const std::string& state_database);

class ResolvConf final : public SystemResolver {
 public:
  ResolvConf(std::string path, std::string backup_path) : path_(std::move(path)), backup_(std::move(backup_path)) {}

  std::string name() const override { return path_; }
  Status point_at(const std::vector<IpPrefix>& servers) override;
  Status restore() override;
  // True when a backup from an earlier run was found and restored.
  Result<bool> recover();

  // The file content for these servers (exposed for tests).
  static std::string render(const std::vector<IpPrefix>& servers);

 private:
  std::string path_, backup_;
};

}  // namespace zeq
