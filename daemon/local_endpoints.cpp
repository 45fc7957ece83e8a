#include "daemon/local_endpoints.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <cstring>

namespace zeq {

std::vector<UdpEndpoint> local_endpoints(uint16_t port, const std::string& tunnel_interface, size_t max) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  std::vector<UdpEndpoint> v4, v6;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
    if (i->ifa_name && tunnel_interface == i->ifa_name) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      sockaddr_in sa;
      std::memcpy(&sa, i->ifa_addr, sizeof sa);
      const uint32_t a = ntohl(sa.sin_addr.s_addr);
      if ((a >> 16) == 0xA9FE || (a >> 24) == 127) continue;  // 169.254/16, 127/8
      sa.sin_port = htons(port);
      v4.push_back(endpoint_from_sockaddr(reinterpret_cast<const sockaddr*>(&sa), sizeof sa));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 sa;
      std::memcpy(&sa, i->ifa_addr, sizeof sa);
      if (IN6_IS_ADDR_LINKLOCAL(&sa.sin6_addr) || IN6_IS_ADDR_LOOPBACK(&sa.sin6_addr)) continue;
      sa.sin6_port = htons(port);
      sa.sin6_scope_id = 0;
      v6.push_back(endpoint_from_sockaddr(reinterpret_cast<const sockaddr*>(&sa), sizeof sa));
    }
  }
  freeifaddrs(list);
  std::vector<UdpEndpoint> out;
  for (const auto* group : {&v4, &v6})
    for (const auto& ep : *group)
      if (out.size() < max && std::find(out.begin(), out.end(), ep) == out.end()) out.push_back(ep);
  return out;
}

}  // namespace zeq
