// Fuzz target: resolv.conf text, as zeqvpnd reads it at start for the name
// servers of endpoint host names (dns/name_servers.hpp). Any bytes give a
// list of at most MAX_NAME_SERVERS addresses, each one that prints and
// parses back to itself; nothing throws or crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dns/name_servers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto servers = zeq::name_servers_in(text);
  if (servers.size() > zeq::MAX_NAME_SERVERS) __builtin_trap();
  for (const auto& s : servers) {
    auto again = zeq::parse_ip_prefix(s.address());
    if (!again || !(*again == s)) __builtin_trap();
  }
  (void)zeq::only_resolved_stub(servers);
  return 0;
}
