// The system's own name servers, read once when zeqvpnd starts, for what must
// be resolved outside the tunnel (peers' endpoint host names): resolv.conf's
// `nameserver` lines, taken before zeqvpnd points the system resolver at a
// peer. The parser is pure and fuzzed (tests/fuzz/resolv_conf_fuzz.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/net_address.hpp"
#include "core/result.hpp"

namespace zeq {

// Where systemd-resolved lists the servers its stub 127.0.0.53 forwards to.
inline constexpr char RESOLVED_UPSTREAM_CONF[] = "/run/systemd/resolve/resolv.conf";

// The addresses of the `nameserver` lines of resolv.conf text, in order, as
// host prefixes. Comments, other keywords and lines that do not parse are
// skipped, as the C library skips them; so are scoped IPv6 addresses
// (fe80::1%eth0), which cannot be handed on without their interface. At most
// MAX_NAME_SERVERS.
inline constexpr size_t MAX_NAME_SERVERS = 8;
std::vector<IpPrefix> name_servers_in(std::string_view resolv_conf_text);

// True when every server is systemd-resolved's local stub (127.0.0.53 or
// 127.0.0.54): its upstream servers are in RESOLVED_UPSTREAM_CONF.
bool only_resolved_stub(const std::vector<IpPrefix>& servers);

struct SystemNameServers {
  std::vector<IpPrefix> servers;
  std::string source;  // the file they came from, for the log
};

// The system's upstream name servers before zeqvpnd changes anything: from
// `backup_path` when an earlier run left its backup of resolv.conf there
// (the file itself then names the peer's resolver), else from
// `resolv_conf`; when that names only the systemd-resolved stub, from
// `resolved_upstream`. An error names the file and why it gave nothing.
Result<SystemNameServers> system_name_servers(const std::string& resolv_conf, const std::string& backup_path,
                                              const std::string& resolved_upstream = RESOLVED_UPSTREAM_CONF);

}  // namespace zeq
