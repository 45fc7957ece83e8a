// Pointing the system's name resolution at a peer's resolver and putting it
// back: through systemd-resolved when it runs (the TUN link gets the DNS
// server and the `~.` routing domain, so every name goes there), otherwise by
// replacing /etc/resolv.conf, with a backup that is restored on exit and, after
// a crash, at the next start.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/net_address.hpp"
#include "core/result.hpp"

namespace zeq {

class SystemResolver {
 public:
  virtual ~SystemResolver() = default;
  virtual std::string name() const = 0;  // "systemd-resolved" or the file's path
  virtual Status point_at(const std::vector<IpPrefix>& servers) = 0;
  // Puts the original configuration back; a no-op when nothing was changed.
  virtual Status restore() = 0;
};

// systemd-resolved when it is running, else the resolv.conf file with its
// backup next to the state database. A backup left by a run that died is
// restored here, before anything else.
Result<std::unique_ptr<SystemResolver>> make_system_resolver(int ifindex, const std::string& resolv_conf,
                                                             const std::string& backup_path);

}  // namespace zeq
