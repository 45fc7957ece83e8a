// What the daemon's TCP listeners (metrics, enrollment) share: the endpoint
// a configured listen address names, and the accept loop. Included only by
// those listeners' .cpp files, which use Asio anyway.
#pragma once

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstring>
#include <memory>

#include <spdlog/spdlog.h>

#include "core/net_address.hpp"

namespace zeq {

// A listen address as config keeps it (UdpEndpoint: IPv6, or v4-mapped).
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

// Accepts connections one after another for `owner` (its acceptor, a
// retry timer, a stopped flag and admit(socket)), until it stops. After a
// failed accept (out of file descriptors, say) it waits 1 s: trying again at
// once would spin.
template <class Owner>
void accept_connections(std::shared_ptr<Owner> owner, const char* what) {
  owner->acceptor.async_accept([owner, what](boost::system::error_code ec, boost::asio::ip::tcp::socket sock) {
    if (owner->stopped || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("{}: accepting a connection failed: {}; trying again in 1 s", what, ec.message());
      owner->retry.expires_after(std::chrono::seconds(1));
      owner->retry.async_wait([owner, what](boost::system::error_code wait) {
        if (!wait && !owner->stopped) accept_connections(owner, what);
      });
      return;
    }
    owner->admit(std::move(sock));
    accept_connections(owner, what);
  });
}

}  // namespace zeq
