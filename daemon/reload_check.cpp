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
    {"interface.offloads", [](const Config& c) { return std::string(c.interface.offloads ? "auto" : "off"); }},
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
    // A relay has no interface, a node has one; the relay's service and the
    // client side are built at start with these (relays: themselves reload).
    {"role", [](const Config& c) { return std::string(to_string(c.role)); }},
    {"relay",
     [](const Config& c) {
       const auto& r = c.relay;
       return fmt::format("metadata_log {} {} {}, price {} per {}, region '{}', limits {}/{}/{}/{}", to_string(r.metadata_log),
                          r.metadata_log_file, r.metadata_retention_z, r.price, to_string(r.price_unit), r.region,
                          r.limits.client_bytes_per_s, r.limits.pair_bytes_per_s, r.limits.pairs_per_client,
                          r.limits.queued_bytes_per_client);
     }},
    {"relay.tcp_listen",
     [](const Config& c) { return c.relay.tcp_listen ? c.relay.tcp_listen->to_string() : std::string("off"); }},
    {"relay_choice.tcp_port", [](const Config& c) { return std::to_string(c.relay_choice.tcp_port); }},
    {"relay_choice",
     [](const Config& c) {
       return fmt::format("max_price {}, direct_attempts {}",
                          c.relay_choice.max_price ? std::to_string(*c.relay_choice.max_price) : std::string("any"),
                          c.relay_choice.direct_attempts);
     }},
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
