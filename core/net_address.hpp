// IP addresses, prefixes and UDP endpoints as configuration and routing use
// them. Parsing only; no sockets.
#pragma once

#include <netinet/in.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zeq {

// An IPv4 or IPv6 prefix. For IPv4 only the first 4 bytes of addr are used.
struct IpPrefix {
  int family = 4;  // 4 or 6
  std::array<uint8_t, 16> addr{};
  uint8_t length = 0;

  size_t address_bytes() const { return family == 4 ? 4 : 16; }
  // The prefix with host bits cleared (10.1.2.3/24 -> 10.1.2.0/24).
  IpPrefix network() const;
  bool contains(int fam, const uint8_t* address) const;
  std::string to_string() const;
  std::string address() const;  // the address alone, without "/length"
  bool operator==(const IpPrefix&) const = default;
  auto operator<=>(const IpPrefix&) const = default;  // for sets of routes
};

// "10.0.0.1/24", "fd00::1/64"; a bare address means a host prefix.
std::optional<IpPrefix> parse_ip_prefix(std::string_view text);

// A UDP endpoint, kept as an IPv6 socket address (IPv4 as v4-mapped) because
// the transport is one dual-stack socket.
struct UdpEndpoint {
  sockaddr_in6 sa{};
  bool empty() const { return sa.sin6_family == 0; }
  std::string to_string() const;
  bool operator==(const UdpEndpoint& o) const;
};

// "198.51.100.1:51820" or "[2001:db8::1]:51820". Numeric only.
std::optional<UdpEndpoint> parse_udp_endpoint(std::string_view text);
UdpEndpoint endpoint_from_sockaddr(const sockaddr* sa, socklen_t len);

// A peer's endpoint given as a DNS name and port ("vpn.example.org:51820"),
// which the node resolves itself (mesh/endpoint_refresher.hpp).
struct HostEndpoint {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
  bool operator==(const HostEndpoint&) const = default;
};

// Empty when `name` is a host name by RFC 1123: dot-separated labels of 1 to
// 63 letters, digits and hyphens, no label starting or ending with a hyphen,
// at most 253 characters, and not all digits at the end (so a mistyped
// address like 198.51.100.300 is not taken for a name). Otherwise what is
// wrong with it, for the error message.
std::string host_name_problem(std::string_view name);
// "vpn.example.org:51820" (port 1 to 65535). Numeric addresses are
// parse_udp_endpoint's; this refuses them.
std::optional<HostEndpoint> parse_host_endpoint(std::string_view text);

}  // namespace zeq
