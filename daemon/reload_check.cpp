#include "daemon/reload_check.hpp"

#include <fmt/format.h>

#include <functional>

namespace zeq {

namespace {

std::string prefixes(const std::vector<IpPrefix>& v) {
  std::string s;
  for (const auto& p : v) s += (s.empty() ? "" : ",") + p.to_string();
  return "[" + s + "]";
}

struct FixedSetting {
  const char* name;
  std::function<std::string(const Config&)> value;  // as the error shows it
};

// The sockets carry the mark, the resolver backend holds its file and the
// node its endpoint name servers from the start, so these need a restart
// like the interface itself.
const FixedSetting FIXED_SETTINGS[] = {
    {"interface.name", [](const Config& c) { return c.interface.name; }},
    {"interface.listen_port", [](const Config& c) { return std::to_string(c.interface.listen_port); }},
    {"interface.mtu", [](const Config& c) { return std::to_string(c.interface.mtu); }},
    {"interface.workers", [](const Config& c) { return std::to_string(c.interface.workers); }},
    {"interface.addresses", [](const Config& c) { return prefixes(c.interface.addresses); }},
    {"interface.zid", [](const Config& c) { return c.interface.zid; }},
    {"fwmark", [](const Config& c) { return std::to_string(c.kill_switch.fwmark); }},
    {"dns.resolv_conf", [](const Config& c) { return c.dns.resolv_conf; }},
    {"dns.endpoint_resolvers", [](const Config& c) { return prefixes(c.dns.endpoint_resolvers); }},
    // The directory's backend and its connection are set up at start.
    {"directory.backend",
     [](const Config& c) {
       return std::string(c.directory.backend == DirectoryBackend::kEtcd ? "etcd"
                          : c.directory.backend == DirectoryBackend::kOff ? "off" : "embedded");
     }},
    {"directory.max_records", [](const Config& c) { return std::to_string(c.directory.max_records); }},
    {"directory (etcd settings)",
     [](const Config& c) {
       std::string s = c.directory.prefix + " " + c.directory.username + " " + c.directory.ca_file + " " +
                       c.directory.cert_file + " " + c.directory.key_file + " " + std::to_string(c.directory.lease_ttl_s);
       for (const auto& e : c.directory.endpoints) s += " " + e;
       return s;
     }},
    // Rules that point at the old table would be left behind.
    {"route_table", [](const Config& c) { return std::to_string(exit_route_table(c)); }},
};

}  // namespace

Status check_reloadable(const Config& running, const Config& next) {
  for (const auto& setting : FIXED_SETTINGS) {
    std::string was = setting.value(running), now = setting.value(next);
    if (was == now) continue;
    return Status::error(fmt::format(
        "{}: {} cannot change while zeqvpnd runs ({} -> {}); restart zeqvpnd to apply it, or put the old value back "
        "to reload the rest",
        next.source, setting.name, was, now));
  }
  return Status::ok();
}

}  // namespace zeq
