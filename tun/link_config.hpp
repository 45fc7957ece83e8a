// Configures a link over rtnetlink with libnl: MTU, up, addresses and routes.
// No `ip` command is run.
#pragma once

#include <vector>

#include "core/net_address.hpp"
#include "core/result.hpp"

namespace zeq {

struct LinkSettings {
  int ifindex = 0;
  int mtu = 0;
  std::vector<IpPrefix> addresses;  // host address with the subnet length
  std::vector<IpPrefix> routes;     // routed into the link; existing ones are kept
};

// Applies settings in order: MTU, addresses, link up, routes.
Status configure_link(const LinkSettings& settings);
// Routes into the link added and removed while it runs (a reload); removing a
// route that is not there, or adding one that is, is not an error.
Status change_routes(int ifindex, const std::vector<IpPrefix>& add, const std::vector<IpPrefix>& remove);

}  // namespace zeq
