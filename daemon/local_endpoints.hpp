// The UDP endpoints a node publishes in its directory record: every address
// of its interfaces that another node could send to, with the listen port.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/net_address.hpp"

namespace zeq {

// Addresses of interfaces that are up, except loopback, the tunnel's own
// interface (`tunnel_interface`), IPv6 link-local (it needs a scope no
// record carries) and IPv4 link-local; IPv4 first, each once, at most
// `max` of them.
std::vector<UdpEndpoint> local_endpoints(uint16_t port, const std::string& tunnel_interface, size_t max);

}  // namespace zeq
