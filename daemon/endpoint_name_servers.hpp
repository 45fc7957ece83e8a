// The name servers the node resolves peers' endpoint host names with:
// dns.endpoint_resolvers when the file lists some, else the system's as
// they are when zeqvpnd starts, before the network guard points the system
// resolver at a peer (dns/name_servers.hpp says where they are read from).
#pragma once

#include <vector>

#include "config/config.hpp"

namespace zeq {

// Never fails: without servers a host name does not resolve, and the
// refresher says so for each peer that has one. Logs where the servers came
// from (info when a peer has a host name, else debug).
std::vector<IpPrefix> endpoint_name_servers(const Config& config);

}  // namespace zeq
