#include "core/net_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace zeq {

IpPrefix IpPrefix::network() const {
  IpPrefix p = *this;
  size_t bits = address_bytes() * 8;
  for (size_t i = length; i < bits; ++i) p.addr[i / 8] &= uint8_t(~(0x80 >> (i % 8)));
  for (size_t i = address_bytes(); i < 16; ++i) p.addr[i] = 0;
  return p;
}

bool IpPrefix::contains(int fam, const uint8_t* address) const {
  if (fam != family) return false;
  size_t full = length / 8, rest = length % 8;
  if (std::memcmp(addr.data(), address, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (addr[full] & mask) == (address[full] & mask);
}

std::string IpPrefix::address() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family == 4 ? AF_INET : AF_INET6, addr.data(), buf, sizeof buf);
  return buf;
}

std::string IpPrefix::to_string() const { return address() + "/" + std::to_string(length); }

std::optional<IpPrefix> parse_ip_prefix(std::string_view text) {
  std::string addr_text(text.substr(0, text.find('/')));
  IpPrefix p;
  if (inet_pton(AF_INET, addr_text.c_str(), p.addr.data()) == 1) {
    p.family = 4;
  } else if (inet_pton(AF_INET6, addr_text.c_str(), p.addr.data()) == 1) {
    p.family = 6;
  } else {
    return std::nullopt;
  }
  unsigned max = p.family == 4 ? 32 : 128;
  unsigned len = max;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty() || len > max) return std::nullopt;
  }
  p.length = uint8_t(len);
  return p;
}

std::string UdpEndpoint::to_string() const {
  if (empty()) return "(none)";
  char buf[INET6_ADDRSTRLEN];
  uint16_t port = ntohs(sa.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&sa.sin6_addr)) {
    inet_ntop(AF_INET, reinterpret_cast<const uint8_t*>(&sa.sin6_addr) + 12, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port);
  }
  inet_ntop(AF_INET6, &sa.sin6_addr, buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(port);
}

bool UdpEndpoint::operator==(const UdpEndpoint& o) const {
  return sa.sin6_family == o.sa.sin6_family && sa.sin6_port == o.sa.sin6_port &&
         std::memcmp(&sa.sin6_addr, &o.sa.sin6_addr, sizeof sa.sin6_addr) == 0 &&
         sa.sin6_scope_id == o.sa.sin6_scope_id;
}

std::optional<UdpEndpoint> parse_udp_endpoint(std::string_view text) {
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 || port > 65535) return std::nullopt;
  UdpEndpoint ep;
  ep.sa.sin6_family = AF_INET6;
  ep.sa.sin6_port = htons(uint16_t(port));
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    uint8_t* a = reinterpret_cast<uint8_t*>(&ep.sa.sin6_addr);
    a[10] = a[11] = 0xff;
    std::memcpy(a + 12, &v4, 4);
  } else if (inet_pton(AF_INET6, host.c_str(), &ep.sa.sin6_addr) != 1) {
    return std::nullopt;
  }
  return ep;
}

UdpEndpoint endpoint_from_sockaddr(const sockaddr* sa, socklen_t len) {
  UdpEndpoint ep;
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    std::memcpy(&ep.sa, sa, sizeof(sockaddr_in6));
    ep.sa.sin6_flowinfo = 0;
  } else if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ep.sa.sin6_family = AF_INET6;
    ep.sa.sin6_port = in->sin_port;
    uint8_t* a = reinterpret_cast<uint8_t*>(&ep.sa.sin6_addr);
    a[10] = a[11] = 0xff;
    std::memcpy(a + 12, &in->sin_addr, 4);
  }
  return ep;
}

std::string host_name_problem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > 253) return "it has " + std::to_string(name.size()) + " characters, at most 253 are allowed";
  std::string_view last;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return "it has an empty label (two dots in a row, or a dot at either end)";
    if (label.size() > 63) return "label '" + std::string(label) + "' is longer than 63 characters";
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return "label '" + std::string(label) + "' has a character other than letters, digits and '-'";
    }
    if (label.front() == '-' || label.back() == '-') return "label '" + std::string(label) + "' starts or ends with '-'";
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (last.find_first_not_of("0123456789") == std::string_view::npos)
    return "its last label is all digits, as in an address, not a name";
  return "";
}

std::optional<HostEndpoint> parse_host_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
  std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 || port > 65535) return std::nullopt;
  if (!host_name_problem(host).empty()) return std::nullopt;
  return HostEndpoint{std::string(host), uint16_t(port)};
}

}  // namespace zeq
