#include "daemon/endpoint_name_servers.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "dns/name_servers.hpp"
#include "dns/resolv_conf.hpp"

namespace zeq {

std::vector<IpPrefix> endpoint_name_servers(const Config& config) {
  const bool named = std::any_of(config.peers.begin(), config.peers.end(),
                                 [](const PeerConfig& p) { return !p.endpoint_host.empty(); });
  if (!config.dns.endpoint_resolvers.empty()) return config.dns.endpoint_resolvers;
  auto found = system_name_servers(config.dns.resolv_conf, resolv_conf_backup_path(config.state.database));
  // Captured all the same (a reload may add a named peer), but only worth a
  // line when some peer has a host name: a failed start stays one line.
  if (!found) {
    if (named) spdlog::warn("endpoint host names: no system name server: {}; list some in dns.endpoint_resolvers", found.message());
    return {};
  }
  std::string list;
  for (const auto& s : found->servers) list += (list.empty() ? "" : ", ") + s.address();
  if (named) spdlog::info("endpoint host names resolve with {} (from {}, outside the tunnel)", list, found->source);
  return found->servers;
}

}  // namespace zeq
