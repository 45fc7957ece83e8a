// A configured listen address (UdpEndpoint: IPv6 or v4-mapped, as the
// config parser keeps every address) as the Boost.Asio TCP endpoint the
// daemon's TCP listeners (metrics, enrollment) bind. Included only by those
// listeners' .cpp files, which use Asio anyway.
#pragma once

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/ip/tcp.hpp>
#include <cstring>

#include "core/net_address.hpp"

namespace zeq {

inline boost::asio::ip::tcp::endpoint tcp_endpoint(const UdpEndpoint& address) {
  namespace ip = boost::asio::ip;
  const auto* a = reinterpret_cast<const uint8_t*>(&address.sa.sin6_addr);
  const uint16_t port = ntohs(address.sa.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&address.sa.sin6_addr)) {
    ip::address_v4::bytes_type v4;
    std::memcpy(v4.data(), a + 12, 4);
    return {ip::address_v4(v4), port};
  }
  ip::address_v6::bytes_type v6;
  std::memcpy(v6.data(), a, 16);
  return {ip::address_v6(v6, address.sa.sin6_scope_id), port};
}

}  // namespace zeq
