#include "config/config.hpp"

#include <netinet/in.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "core/constants.hpp"
#include "identity/key_file.hpp"
#include "identity/zid.hpp"

namespace zeq {

namespace {

// The highest billing price per unit the file may set (keeps the integer
// settlement arithmetic far from overflow).
constexpr long MAX_PRICE = 1'000'000'000'000L;

// The least a relay may let one client queue (relay.limits): one message of
// the largest size a UDP datagram can carry has to fit.
constexpr long MIN_RELAY_QUEUE_BYTES = 65'536;

// The end of the errors that refuse a node setting on a relay.
constexpr char NO_TUN_ON_RELAY[] = "a relay (role: relay) has no tunnel interface";

// Thrown inside the parser only, turned into a Status at the boundary.
struct ConfigError {
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& field, const std::string& what) const {
    std::ostringstream out;
    out << source_;
    if (node.IsDefined() && node.Mark().line >= 0) out << ":" << node.Mark().line + 1 << ":" << node.Mark().column + 1;
    out << ": " << field << ": " << what;
    throw ConfigError{out.str()};
  }

  std::string shown(const YAML::Node& n) const {
    if (n.IsScalar()) return "'" + n.Scalar() + "'";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    return "nothing";
  }

  void only_keys(const YAML::Node& map, const std::string& field, std::initializer_list<const char*> keys) const {
    if (!map.IsMap()) fail(map, field, "expected a mapping, got " + shown(map));
    for (const auto& kv : map) {
      std::string k = kv.first.as<std::string>();
      bool known = false;
      for (const char* allowed : keys) known = known || k == allowed;
      if (!known) {
        std::string list;
        for (const char* allowed : keys) list += std::string(list.empty() ? "" : ", ") + allowed;
        fail(kv.first, field.empty() ? k : field + "." + k, "unknown key; expected one of: " + list);
      }
    }
  }

  std::string string_of(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) fail(n, field, "expected a string, got " + shown(n));
    return n.Scalar();
  }

  long integer_of(const YAML::Node& n, const std::string& field, long lo, long hi) const {
    if (!n.IsScalar()) fail(n, field, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " + shown(n));
    const std::string& s = n.Scalar();
    size_t used = 0;
    long v = 0;
    try {
      v = std::stol(s, &used);
    } catch (...) {
      used = 0;
    }
    if (used != s.size() || s.empty() || v < lo || v > hi)
      fail(n, field, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got '" + s + "'");
    return v;
  }

  // A value of an enum with a name table (core/modes.hpp): the error lists
  // the valid names from the same table that parses them.
  template <typename E, size_t N>
  E enum_of(const YAML::Node& n, const std::string& field, const std::array<EnumName<E>, N>& names) const {
    std::string s = string_of(n, field);
    if (auto v = value_in(names, s)) return *v;
    fail(n, field, "expected one of " + names_in(names) + ", got '" + s + "'");
  }

  bool bool_of(const YAML::Node& n, const std::string& field) const {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true" || s == "yes" || s == "on") return true;
      if (s == "false" || s == "no" || s == "off") return false;
    }
    fail(n, field, "expected true or false, got " + shown(n));
  }

  std::string absolute_path_of(const YAML::Node& n, const std::string& field) const {
    std::string s = string_of(n, field);
    if (s.empty() || s[0] != '/') fail(n, field, "expected an absolute path, got '" + s + "'");
    return s;
  }

  IpPrefix prefix_of(const YAML::Node& n, const std::string& field) const {
    auto p = parse_ip_prefix(string_of(n, field));
    if (!p) fail(n, field, "expected an IP prefix like 10.77.0.0/24 or fd77::/64, got " + shown(n));
    return *p;
  }

  // An interface address: the host's address and its subnet's length, both
  // written out. A bare 10.77.0.1 would silently be a /32, a subnet of one,
  // so that no peer is reachable through the interface's own route.
  IpPrefix address_of(const YAML::Node& n, const std::string& field) const {
    IpPrefix p = prefix_of(n, field);
    if (n.Scalar().find('/') == std::string::npos)
      fail(n, field, "'" + n.Scalar() + "' has no prefix length; write the address with its subnet's length, like " +
                         n.Scalar() + (p.family == 4 ? "/24" : "/64"));
    return p;
  }

  // allowed_ips takes a bare address as one host (/32 or /128), as wg-quick
  // does; interface.addresses requires the length (address_of).
  std::vector<IpPrefix> prefix_list(const YAML::Node& n, const std::string& field, bool length_required = false) const {
    std::vector<IpPrefix> out;
    auto one = [&](const YAML::Node& item, const std::string& name) {
      return length_required ? address_of(item, name) : prefix_of(item, name);
    };
    if (n.IsScalar()) {
      out.push_back(one(n, field));
      return out;
    }
    if (!n.IsSequence()) fail(n, field, "expected a list of IP prefixes, got " + shown(n));
    for (size_t i = 0; i < n.size(); ++i) out.push_back(one(n[i], field + "[" + std::to_string(i) + "]"));
    return out;
  }

  // With role: relay there is no TUN device: the addresses are optional.
  InterfaceConfig interface_of(const YAML::Node& n, NodeRole role) const {
    only_keys(n, "interface", {"name", "addresses", "listen_port", "mtu", "identity_key_file", "workers", "offloads", "zid"});
    InterfaceConfig c;
    if (n["name"]) {
      c.name = string_of(n["name"], "interface.name");
      if (c.name.empty() || c.name.size() > 15 || c.name.find_first_of("/ \t:") != std::string::npos)
        fail(n["name"], "interface.name", "expected an interface name of 1 to 15 characters without '/', ':' or spaces, got '" + c.name + "'");
    }
    if (role == NodeRole::kNode && !n["addresses"])
      fail(n, "interface.addresses", "missing; list the tunnel addresses, e.g. [10.77.0.1/24, fd77::1/64]");
    if (n["addresses"]) c.addresses = prefix_list(n["addresses"], "interface.addresses", true);
    if (role == NodeRole::kNode && c.addresses.empty()) fail(n["addresses"], "interface.addresses", "expected at least one address");
    if (n["listen_port"]) c.listen_port = uint16_t(integer_of(n["listen_port"], "interface.listen_port", 1, 65535));
    if (n["mtu"]) c.mtu = int(integer_of(n["mtu"], "interface.mtu", 1280, 9000));
    if (n["identity_key_file"]) c.identity_key_file = string_of(n["identity_key_file"], "interface.identity_key_file");
    if (n["zid"]) {
      c.zid = string_of(n["zid"], "interface.zid");
      if (!is_valid_zid(c.zid))
        fail(n["zid"], "interface.zid", "expected 'zeq-' and 12 lowercase hex digits (as `zeqvpnctl zeqauth zid` prints), got '" +
                                            c.zid + "'");
    }
    if (n["workers"]) c.workers = int(integer_of(n["workers"], "interface.workers", 0, 64));
    if (n["offloads"]) {
      const std::string v = string_of(n["offloads"], "interface.offloads");
      if (v != "auto" && v != "off") fail(n["offloads"], "interface.offloads", "expected auto or off, got '" + v + "'");
      c.offloads = v == "auto";
    }
    return c;
  }

  // A numeric address and port, or a host name and port that the node
  // resolves itself, outside the tunnel. For a peer or a relay (the same
  // endpoint, endpoint_host and endpoint_port fields).
  template <typename PeerOrRelay>
  void endpoint_of(const YAML::Node& n, const std::string& field, PeerOrRelay& p) const {
    const std::string s = string_of(n, field);
    if (auto ep = parse_udp_endpoint(s)) {
      p.endpoint = *ep;
      return;
    }
    if (auto host = parse_host_endpoint(s)) {
      p.endpoint_host = host->host;
      p.endpoint_port = host->port;
      return;
    }
    // Say what is wrong when the value looks like a name; a mistyped
    // address gets the examples alone.
    std::string why;
    const size_t colon = s.rfind(':');
    const bool one_colon = colon != std::string::npos && s.find(':') == colon;
    if (colon == std::string::npos) {
      why = " (no port)";
    } else if (one_colon && s.find_first_not_of("0123456789.:") != std::string::npos) {
      std::string problem = host_name_problem(std::string_view(s).substr(0, colon));
      why = problem.empty() ? " (the port must be 1 to 65535)" : " (not a host name: " + problem + ")";
    }
    fail(n, field, "expected a host name and port like vpn.example.org:51820, or a numeric address and port like "
                   "198.51.100.7:51820 or [2001:db8::7]:51820, got '" + s + "'" + why);
  }

  // On a relay (role: relay) allowed_ips are optional: nothing is routed.
  PeerConfig peer_of(const YAML::Node& n, const std::string& field, NodeRole role) const {
    only_keys(n, field, {"name", "zid", "public_key", "endpoint", "allowed_ips", "persistent_keepalive", "billing", "cover",
                         "padding", "send_certificate", "via"});
    PeerConfig p;
    if (n["name"]) p.name = string_of(n["name"], field + ".name");
    if (!n["public_key"]) fail(n, field + ".public_key", "missing; give the peer's key as `zeqvpnctl pubkey` prints it");
    auto key = decode_key(string_of(n["public_key"], field + ".public_key"));
    if (!key) fail(n["public_key"], field + ".public_key", "expected 44 base64 characters (as `zeqvpnctl pubkey` prints), got " + shown(n["public_key"]));
    p.public_key = *key;
    if (n["zid"]) {
      p.zid = string_of(n["zid"], field + ".zid");
      if (!is_valid_zid(p.zid)) fail(n["zid"], field + ".zid", "expected 'zeq-' and 12 lowercase hex digits, got '" + p.zid + "'");
    } else {
      p.zid = zid_from_public_key(p.public_key);
    }
    if (n["endpoint"]) endpoint_of(n["endpoint"], field + ".endpoint", p);
    if (role == NodeRole::kNode && !n["allowed_ips"])
      fail(n, field + ".allowed_ips", "missing; list the prefixes this peer may send from, e.g. [10.77.0.2/32]");
    if (n["allowed_ips"]) p.allowed_ips = prefix_list(n["allowed_ips"], field + ".allowed_ips");
    for (auto& a : p.allowed_ips) a = a.network();
    if (n["persistent_keepalive"])
      p.persistent_keepalive_s = int(integer_of(n["persistent_keepalive"], field + ".persistent_keepalive", 0, 65535));
    if (n["cover"]) p.cover = enum_of(n["cover"], field + ".cover", COVER_MODE_NAMES);
    if (n["padding"]) p.padding = enum_of(n["padding"], field + ".padding", PADDING_POLICY_NAMES);
    if (n["send_certificate"]) p.send_certificate = bool_of(n["send_certificate"], field + ".send_certificate");
    if (n["via"]) p.via = enum_of(n["via"], field + ".via", PEER_PATH_NAMES);
    if (const auto& b = n["billing"]) {
      only_keys(b, field + ".billing", {"unit", "price"});
      if (b["unit"]) p.billing_unit = enum_of(b["unit"], field + ".billing.unit", PRICING_UNIT_NAMES);
      if (b["price"]) p.billing_price = uint64_t(integer_of(b["price"], field + ".billing.price", 0, MAX_PRICE));
    }
    return p;
  }

  std::vector<std::string> path_list(const YAML::Node& n, const std::string& field) const {
    std::vector<std::string> out;
    if (n.IsScalar()) return {absolute_path_of(n, field)};
    if (!n.IsSequence()) fail(n, field, "expected a file path or a list of them, got " + shown(n));
    for (size_t i = 0; i < n.size(); ++i) out.push_back(absolute_path_of(n[i], field + "[" + std::to_string(i) + "]"));
    return out;
  }

  MeshConfig mesh_of(const YAML::Node& n) const {
    only_keys(n, "mesh", {"ca", "certificate", "revocations"});
    MeshConfig c;
    if (n["ca"]) c.ca = path_list(n["ca"], "mesh.ca");
    if (n["certificate"]) c.certificate = absolute_path_of(n["certificate"], "mesh.certificate");
    if (n["revocations"]) c.revocations = path_list(n["revocations"], "mesh.revocations");
    if (c.ca.empty() && !c.revocations.empty())
      fail(n["revocations"], "mesh.revocations", "revocation lists need mesh.ca (the CA that signed them); add mesh.ca");
    return c;
  }

  EnrollmentConfig enrollment_of(const YAML::Node& n, const MeshConfig& mesh) const {
    only_keys(n, "enrollment", {"listen", "ca_key", "network", "advertise", "certificate_valid"});
    EnrollmentConfig c;
    const auto& l = n["listen"];
    if (!l) fail(n, "enrollment.listen", "missing; give the TCP address and port to enrol nodes on, like 0.0.0.0:51821, or off");
    const std::string s = string_of(l, "enrollment.listen");
    if (s == "off") return c;
    c.listen = parse_udp_endpoint(s);
    if (!c.listen || c.listen->sa.sin6_port == 0)
      fail(l, "enrollment.listen", "expected a numeric address and TCP port like 0.0.0.0:51821 or [::]:51821 (or off), got '" +
                                       s + "'");
    if (!n["ca_key"]) fail(n, "enrollment.ca_key", "missing; give the mesh CA's private key file (ca.key)");
    c.ca_key = absolute_path_of(n["ca_key"], "enrollment.ca_key");
    if (!n["network"]) fail(n, "enrollment.network", "missing; give the tunnel network joiners get addresses from, like 10.77.0.0/16");
    IpPrefix net = prefix_of(n["network"], "enrollment.network");
    const int host_bits = int(net.address_bytes() * 8) - net.length;
    if (net.network() != net || host_bits < 2)
      fail(n["network"], "enrollment.network", "expected a network with host bits zero and room for hosts (at most /30 or /126), "
                                               "got " + net.to_string());
    c.network = net;
    if (const auto& list = n["advertise"]) {
      if (!list.IsSequence() || list.size() < 1 || list.size() > 4)
        fail(list, "enrollment.advertise", "expected a list of 1 to 4 address:port endpoints, got " + shown(list));
      for (size_t i = 0; i < list.size(); ++i) {
        std::string field = "enrollment.advertise[" + std::to_string(i) + "]";
        auto ep = parse_udp_endpoint(string_of(list[i], field));
        if (!ep || ep->sa.sin6_port == 0)
          fail(list[i], field, "expected an IP address and TCP port like 198.51.100.7:51821 or [2001:db8::1]:51821");
        c.advertise.push_back(*ep);
      }
    }
    if (n["certificate_valid"])
      c.certificate_valid_z = uint64_t(integer_of(n["certificate_valid"], "enrollment.certificate_valid", 100, 1'000'000'000));
    if (mesh.ca.empty() || mesh.certificate.empty())
      fail(n, "enrollment", "needs mesh.ca and mesh.certificate (joiners get this node as their first peer); add them or "
                            "set enrollment.listen: off");
    return c;
  }

  ControlConfig control_of(const YAML::Node& n) const {
    only_keys(n, "control", {"socket", "group"});
    ControlConfig c;
    if (n["socket"]) c.socket = absolute_path_of(n["socket"], "control.socket");
    if (n["group"]) c.group = string_of(n["group"], "control.group");
    return c;
  }

  StateConfig state_of(const YAML::Node& n) const {
    only_keys(n, "state", {"database"});
    StateConfig c;
    if (n["database"]) c.database = absolute_path_of(n["database"], "state.database");
    return c;
  }

  // `metrics: {listen: ADDRESS:PORT}`, or `listen: off`. Numeric only: the
  // endpoint is bound at start, before anything resolves names, and a name
  // like localhost may mean IPv4 or IPv6.
  MetricsConfig metrics_of(const YAML::Node& n) const {
    only_keys(n, "metrics", {"listen"});
    MetricsConfig c;
    const auto& l = n["listen"];
    if (!l)
      fail(n, "metrics.listen", "missing; give the address and port to serve metrics on, like 127.0.0.1:9586, or "
                                "remove the metrics section");
    const std::string s = string_of(l, "metrics.listen");
    if (s == "off") return c;
    c.listen = parse_udp_endpoint(s);
    if (!c.listen)
      fail(l, "metrics.listen", "expected a numeric address and TCP port like 127.0.0.1:9586 or [::1]:9586 (or off), "
                                "got '" + s + "'" + listen_problem(s));
    return c;
  }

  // What is wrong with a listen address parse_udp_endpoint refused, when
  // that can be said: " (...)", or empty.
  static std::string listen_problem(const std::string& s) {
    if (s.find("://") != std::string::npos) return " (an address and port, not a URL)";
    std::string host, port;
    if (!s.empty() && s.front() == '[') {
      const size_t close = s.find(']');
      if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return " (no port after the brackets)";
      host = s.substr(1, close - 1);
      port = s.substr(close + 2);
    } else {
      const size_t colon = s.rfind(':');
      if (colon == std::string::npos) return " (no port)";
      if (s.find(':') != colon)
        return parse_ip_prefix(s) ? " (an IPv6 address goes in brackets, with its port after them, like [::1]:9586)" : "";
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
    }
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos)
      return " (the port must be a number from 1 to 65535)";
    if (port.size() > 5 || std::stoul(port) == 0 || std::stoul(port) > 65535) return " (the port must be 1 to 65535)";
    if (host.find('/') != std::string::npos || !parse_ip_prefix(host))
      return host_name_problem(host).empty() ? " (a host name; write the address itself, like 127.0.0.1 or [::1])"
                                             : " (not an IP address)";
    return "";
  }

  // Marks are usually written in hex, as `ip rule` and nft print them.
  uint32_t fwmark_of(const YAML::Node& n) const {
    std::string s = n.IsScalar() ? n.Scalar() : "";
    size_t used = 0;
    unsigned long v = 0;
    try {
      v = std::stoul(s, &used, s.rfind("0x", 0) == 0 ? 16 : 10);
    } catch (...) {
      used = 0;
    }
    if (s.empty() || used != s.size() || v == 0 || v > 0xffffffffUL)
      fail(n, "fwmark", "expected a non-zero 32-bit mark like 0x5a51 or 23121, got " + shown(n));
    return uint32_t(v);
  }

  // kill_switch, allow_lan and fwmark are top-level keys of the file.
  KillSwitchConfig kill_switch_of(const YAML::Node& root) const {
    KillSwitchConfig c;
    if (root["kill_switch"]) c.mode = enum_of(root["kill_switch"], "kill_switch", KILL_SWITCH_MODE_NAMES);
    if (root["allow_lan"]) c.allow_lan = bool_of(root["allow_lan"], "allow_lan");
    if (root["fwmark"]) c.fwmark = fwmark_of(root["fwmark"]);
    return c;
  }

  // dns_via_peer is top-level; the rest sits under dns.
  DnsConfig dns_of(const YAML::Node& root) const {
    DnsConfig c;
    if (root["dns_via_peer"]) c.via_peer = bool_of(root["dns_via_peer"], "dns_via_peer");
    const auto& dns = root["dns"];
    if (!dns) return c;
    only_keys(dns, "dns", {"offer", "resolv_conf", "endpoint_resolvers"});
    if (dns["offer"]) {
      auto a = parse_ip_prefix(string_of(dns["offer"], "dns.offer"));
      if (!a || a->length != (a->family == 4 ? 32 : 128))
        fail(dns["offer"], "dns.offer", "expected the IP address of a resolver reachable through the tunnel, like 10.77.0.1, got " + shown(dns["offer"]));
      c.offer = *a;
    }
    if (dns["resolv_conf"]) c.resolv_conf = absolute_path_of(dns["resolv_conf"], "dns.resolv_conf");
    if (const auto& list = dns["endpoint_resolvers"]) {
      if (!list.IsSequence()) fail(list, "dns.endpoint_resolvers", "expected a list of name server addresses like [192.0.2.53, 2001:db8::53], got " + shown(list));
      for (size_t i = 0; i < list.size(); ++i) {
        std::string field = "dns.endpoint_resolvers[" + std::to_string(i) + "]";
        auto a = parse_ip_prefix(string_of(list[i], field));
        if (!a || list[i].Scalar().find('/') != std::string::npos)
          fail(list[i], field, "expected the IP address of a name server outside the tunnel, like 192.0.2.53 or 2001:db8::53, got " + shown(list[i]));
        c.endpoint_resolvers.push_back(*a);
      }
    }
    return c;
  }

  DirectoryConfig directory_of(const YAML::Node& n, const MeshConfig& mesh) const {
    only_keys(n, "directory", {"backend", "idle_timeout", "max_records", "advertise", "endpoints", "prefix", "username",
                               "ca_file", "cert_file", "key_file", "lease_ttl"});
    DirectoryConfig c;
    if (n["backend"]) {
      std::string b = string_of(n["backend"], "directory.backend");
      if (b == "embedded") c.backend = DirectoryBackend::kEmbedded;
      else if (b == "etcd") c.backend = DirectoryBackend::kEtcd;
      else if (b == "off") c.backend = DirectoryBackend::kOff;
      else fail(n["backend"], "directory.backend", "expected embedded, etcd or off, got '" + b + "'");
    }
    if (n["idle_timeout"]) c.idle_timeout_z = uint64_t(integer_of(n["idle_timeout"], "directory.idle_timeout", 0, 1'000'000));
    if (n["max_records"]) c.max_records = uint64_t(integer_of(n["max_records"], "directory.max_records", 1, 1'000'000));
    if (const auto& list = n["advertise"]) {
      if (!list.IsSequence() || list.size() > 16)
        fail(list, "directory.advertise", "expected a list of up to 16 address:port endpoints, got " + shown(list));
      for (size_t i = 0; i < list.size(); ++i) {
        std::string field = "directory.advertise[" + std::to_string(i) + "]";
        auto ep = parse_udp_endpoint(string_of(list[i], field));
        if (!ep) fail(list[i], field, "expected an IP address and port like 198.51.100.7:51820 or [2001:db8::1]:51820");
        const auto* a = reinterpret_cast<const uint8_t*>(&ep->sa.sin6_addr);
        const bool v4 = IN6_IS_ADDR_V4MAPPED(&ep->sa.sin6_addr);
        const bool unspecified = v4 ? (a[12] | a[13] | a[14] | a[15]) == 0 : IN6_IS_ADDR_UNSPECIFIED(&ep->sa.sin6_addr);
        if (unspecified || ep->sa.sin6_port == 0)
          fail(list[i], field, "expected an address other nodes can send to and a port other than 0, got " + ep->to_string());
        if (std::find(c.advertise.begin(), c.advertise.end(), *ep) != c.advertise.end())
          fail(list[i], field, ep->to_string() + " is listed twice; list each endpoint once");
        c.advertise.push_back(*ep);
      }
    }
    if (const auto& list = n["endpoints"]) {
      if (!list.IsSequence()) fail(list, "directory.endpoints", "expected a list of etcd URLs like [http://10.0.0.1:2379], got " + shown(list));
      for (size_t i = 0; i < list.size(); ++i) {
        std::string field = "directory.endpoints[" + std::to_string(i) + "]";
        std::string url = string_of(list[i], field);
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
          fail(list[i], field, "expected an etcd client URL starting with http:// or https://, got '" + url + "'");
        c.endpoints.push_back(url);
      }
    }
    if (n["prefix"]) {
      c.prefix = string_of(n["prefix"], "directory.prefix");
      if (c.prefix.empty() || c.prefix.front() != '/' || c.prefix.back() == '/')
        fail(n["prefix"], "directory.prefix", "expected a key prefix like /zeqvpn/mesh (starting with /, not ending with /)");
    }
    if (n["username"]) c.username = string_of(n["username"], "directory.username");
    if (n["ca_file"]) c.ca_file = absolute_path_of(n["ca_file"], "directory.ca_file");
    if (n["cert_file"]) c.cert_file = absolute_path_of(n["cert_file"], "directory.cert_file");
    if (n["key_file"]) c.key_file = absolute_path_of(n["key_file"], "directory.key_file");
    if (n["lease_ttl"]) c.lease_ttl_s = integer_of(n["lease_ttl"], "directory.lease_ttl", 2, 3600);
    if (c.backend == DirectoryBackend::kEtcd && c.endpoints.empty())
      fail(n, "directory.endpoints", "missing; the etcd backend needs the cluster's client URLs, e.g. [http://10.0.0.1:2379]");
    if (c.backend != DirectoryBackend::kOff && mesh.ca.empty())
      fail(n, "directory", "needs mesh.ca (records are verified against the mesh CA); add mesh.ca or set backend: off");
    return c;
  }

  std::string log_level_of(const YAML::Node& n) const {
    std::string level = string_of(n, "log_level");
    std::string list;
    for (const char* l : LOG_LEVELS) {
      if (level == l) return level;
      list += std::string(list.empty() ? "" : ", ") + l;
    }
    fail(n, "log_level", "expected one of " + list + ", got '" + level + "'");
  }

  // A peer named by its name or ZID, as `zeqvpnctl down PEER` takes it.
  static std::optional<size_t> peer_named(const std::vector<PeerConfig>& peers, const std::string& name) {
    for (size_t i = 0; i < peers.size(); ++i)
      if (peers[i].name == name || peers[i].zid == name) return i;
    return std::nullopt;
  }

  std::string peer_list(const std::vector<PeerConfig>& peers) const {
    std::string list;
    for (const auto& p : peers) list += (list.empty() ? "" : ", ") + (p.name.empty() ? p.zid : p.name);
    return list.empty() ? "none" : list;
  }

  ExitConfig exit_of(const YAML::Node& n, const std::vector<PeerConfig>& peers) const {
    only_keys(n, "exit", {"enabled", "out_interface", "allowed_peers", "ipv6"});
    ExitConfig c;
    if (n["enabled"]) c.enabled = bool_of(n["enabled"], "exit.enabled");
    if (n["ipv6"]) c.ipv6 = bool_of(n["ipv6"], "exit.ipv6");
    if (n["out_interface"]) {
      c.out_interface = string_of(n["out_interface"], "exit.out_interface");
      if (c.out_interface.empty() || c.out_interface.size() > 15 || c.out_interface.find_first_of("/ \t:\"") != std::string::npos)
        fail(n["out_interface"], "exit.out_interface",
             "expected an interface name of 1 to 15 characters, got '" + c.out_interface + "'");
    }
    if (c.enabled && c.out_interface.empty())
      fail(n, "exit.out_interface", "missing; name the interface the exit's traffic leaves by, e.g. eth0");
    if (const auto& list = n["allowed_peers"]) {
      if (!list.IsSequence()) fail(list, "exit.allowed_peers", "expected a list of peer names or ZIDs, got " + shown(list));
      for (size_t i = 0; i < list.size(); ++i) {
        std::string field = "exit.allowed_peers[" + std::to_string(i) + "]";
        std::string name = string_of(list[i], field);
        if (!peer_named(peers, name))
          fail(list[i], field, "'" + name + "' is not a peer in this file; name a peer (name or ZID): " + peer_list(peers));
        c.allowed_peers.push_back(name);
      }
    }
    return c;
  }

  // The client side: exit_node, block_ipv6_leaks and route_table are
  // top-level; the exit is one peer, named or holding the default routes.
  ExitClientConfig exit_client_of(const YAML::Node& root, const std::vector<PeerConfig>& peers, bool is_exit) const {
    ExitClientConfig c;
    if (root["block_ipv6_leaks"]) c.block_ipv6_leaks = bool_of(root["block_ipv6_leaks"], "block_ipv6_leaks");
    if (const auto& t = root["route_table"]) {
      long v = integer_of(t, "route_table", 1, 0xffffffffL);
      if (v == 253 || v == 254 || v == 255)
        fail(t, "route_table", "table " + std::to_string(v) + " is the kernel's own (default, main, local); pick another, e.g. 23121");
      c.route_table = uint32_t(v);
    }
    std::optional<size_t> holder;  // the peer with a default route in allowed_ips
    for (size_t i = 0; i < peers.size(); ++i) {
      for (const auto& a : peers[i].allowed_ips) {
        if (a.length != 0) continue;
        if (holder && *holder != i)
          fail(root["peers"][i]["allowed_ips"], "peers[" + std::to_string(i) + "].allowed_ips",
               a.to_string() + " would make this peer an exit besides peers[" + std::to_string(*holder) +
                   "]; one exit at a time: keep default routes on one peer");
        holder = i;
      }
    }
    if (const auto& e = root["exit_node"]) {
      c.exit_node = string_of(e, "exit_node");
      auto at = peer_named(peers, c.exit_node);
      if (!at) fail(e, "exit_node", "'" + c.exit_node + "' is not a peer in this file; name a peer (name or ZID): " + peer_list(peers));
      if (holder && *holder != *at)
        fail(e, "exit_node", "peers[" + std::to_string(*holder) + "] holds the default route in its allowed_ips; use that peer as the exit or remove its 0.0.0.0/0 and ::/0");
    }
    if (is_exit && (holder || !c.exit_node.empty()))
      fail(root["exit_node"] ? root["exit_node"] : root["exit"], "exit_node",
           "this node is an exit (exit.enabled) and would also send everything through another; a node is an exit or uses one");
    return c;
  }

  // Every peer once: no name, ZID, key or allowed_ips prefix may appear
  // twice, and no name may be another peer's ZID (`zeqvpnctl down PEER`
  // takes either and must mean one peer).
  std::vector<PeerConfig> peers_of(const YAML::Node& peers, NodeRole role) const {
    if (!peers.IsSequence()) fail(peers, "peers", "expected a list of peers, got " + shown(peers));
    std::vector<PeerConfig> out;
    std::map<std::string, std::string> zids, names;  // -> the peer that has it
    std::map<PublicKey, std::string> keys;
    std::vector<std::pair<IpPrefix, std::string>> seen_prefixes;
    for (size_t i = 0; i < peers.size(); ++i) {
      std::string field = "peers[" + std::to_string(i) + "]";
      PeerConfig p = peer_of(peers[i], field, role);
      if (auto [at, fresh] = zids.emplace(p.zid, field); !fresh)
        fail(peers[i], field + ".zid", "ZID " + p.zid + " is listed twice (also " + at->second + "); list each peer once");
      if (auto [at, fresh] = keys.emplace(p.public_key, field); !fresh)
        fail(peers[i]["public_key"], field + ".public_key",
             "this key is listed twice (also " + at->second + "); list each peer once");
      if (!p.name.empty()) {
        if (auto [at, fresh] = names.emplace(p.name, field); !fresh)
          fail(peers[i]["name"], field + ".name",
               "'" + p.name + "' is also the name of " + at->second + "; give each peer its own name");
      }
      for (const auto& a : p.allowed_ips) {
        for (const auto& [q, owner] : seen_prefixes) {
          if (q == a) fail(peers[i]["allowed_ips"], field + ".allowed_ips", a.to_string() + " is already routed to " + owner + "; a prefix may belong to one peer only");
        }
        seen_prefixes.emplace_back(a, field);
      }
      out.push_back(std::move(p));
    }
    for (size_t i = 0; i < out.size(); ++i) {
      auto owner = zids.find(out[i].name);
      if (owner != zids.end() && owner->second != "peers[" + std::to_string(i) + "]")
        fail(peers[i]["name"], "peers[" + std::to_string(i) + "].name",
             "'" + out[i].name + "' is the ZID of " + owner->second + "; give this peer a name that is not a ZID");
    }
    return out;
  }

  // `relay:` — the serving side of the relay role.
  RelayRoleConfig relay_role_of(const YAML::Node& n) const {
    only_keys(n, "relay", {"metadata_log", "metadata_log_file", "metadata_retention", "price", "region", "limits",
                           "tcp_listen"});
    RelayRoleConfig c;
    if (const auto& t = n["tcp_listen"]) {
      const std::string s = string_of(t, "relay.tcp_listen");
      if (s == "off") {
        c.tcp_listen.reset();
      } else if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
        c.tcp_listen = parse_udp_endpoint("[::]:" + std::to_string(integer_of(t, "relay.tcp_listen", 1, 65535)));
      } else {
        c.tcp_listen = parse_udp_endpoint(s);
        if (!c.tcp_listen)
          fail(t, "relay.tcp_listen", "expected a TCP port like 443, a numeric address and port like [::]:443 or "
                                      "198.51.100.7:443, or off, got '" + s + "'" + listen_problem(s));
      }
    }
    if (n["metadata_log"]) c.metadata_log = enum_of(n["metadata_log"], "relay.metadata_log", RELAY_METADATA_LOG_NAMES);
    if (n["metadata_log_file"]) c.metadata_log_file = absolute_path_of(n["metadata_log_file"], "relay.metadata_log_file");
    if (n["metadata_retention"])
      c.metadata_retention_z = uint64_t(integer_of(n["metadata_retention"], "relay.metadata_retention", 1, 1'000'000'000L));
    if (const auto& price = n["price"]) {
      only_keys(price, "relay.price", {"per_gb", "per_zeqond"});
      if (price.size() != 1)
        fail(price, "relay.price", "expected exactly one of per_gb or per_zeqond, like {per_gb: 5}, got " +
                                       std::to_string(price.size()) + " keys");
      const bool gb = bool(price["per_gb"]);
      c.price_unit = gb ? PricingUnit::kGb : PricingUnit::kZeqond;
      const char* key = gb ? "per_gb" : "per_zeqond";
      c.price = uint64_t(integer_of(price[key], std::string("relay.price.") + key, 0, MAX_PRICE));
    }
    if (n["region"]) {
      c.region = string_of(n["region"], "relay.region");
      if (c.region.empty() || c.region.size() > 32 ||
          c.region.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
        fail(n["region"], "relay.region",
             "expected a label of 1 to 32 letters, digits, '.', '_' or '-', like eu-west.1, got '" + c.region + "'");
    }
    if (const auto& l = n["limits"]) {
      only_keys(l, "relay.limits", {"client_bytes_per_s", "pair_bytes_per_s", "pairs_per_client", "queued_bytes_per_client"});
      RelayLimitsConfig& lim = c.limits;
      constexpr long MAX_RATE = 1'000'000'000'000L;  // 8 Tbit/s
      if (l["client_bytes_per_s"])
        lim.client_bytes_per_s = uint64_t(integer_of(l["client_bytes_per_s"], "relay.limits.client_bytes_per_s", 1, MAX_RATE));
      if (l["pair_bytes_per_s"]) {
        lim.pair_bytes_per_s = uint64_t(integer_of(l["pair_bytes_per_s"], "relay.limits.pair_bytes_per_s", 1, MAX_RATE));
        if (lim.pair_bytes_per_s > lim.client_bytes_per_s)
          fail(l["pair_bytes_per_s"], "relay.limits.pair_bytes_per_s",
               std::to_string(lim.pair_bytes_per_s) + " is above client_bytes_per_s (" + std::to_string(lim.client_bytes_per_s) +
                   "); a pair is one client's, so lower pair_bytes_per_s or raise client_bytes_per_s");
      } else {
        // Not given: the default, but never above the client's rate.
        lim.pair_bytes_per_s = std::min(lim.pair_bytes_per_s, lim.client_bytes_per_s);
      }
      if (l["pairs_per_client"])
        lim.pairs_per_client = uint32_t(integer_of(l["pairs_per_client"], "relay.limits.pairs_per_client", 1, 1'000'000));
      if (const auto& q = l["queued_bytes_per_client"]) {
        long v = integer_of(q, "relay.limits.queued_bytes_per_client", 1, 1L << 32);
        if (v < MIN_RELAY_QUEUE_BYTES)
          fail(q, "relay.limits.queued_bytes_per_client",
               std::to_string(v) + " is below 65536; a client must be able to queue one message of the largest size, "
                                   "so give at least 65536");
        lim.queued_bytes_per_client = uint64_t(v);
      }
    }
    return c;
  }

  RelayConfig relay_of(const YAML::Node& n, const std::string& field) const {
    only_keys(n, field, {"name", "zid", "public_key", "endpoint"});
    RelayConfig r;
    if (!n["name"]) fail(n, field + ".name", "missing; give the relay a name for logs and `zeqvpnctl relays`, e.g. r1");
    r.name = string_of(n["name"], field + ".name");
    if (r.name.empty()) fail(n["name"], field + ".name", "expected a non-empty name, e.g. r1");
    if (!n["public_key"]) fail(n, field + ".public_key", "missing; give the relay's key as `zeqvpnctl pubkey` prints it");
    auto key = decode_key(string_of(n["public_key"], field + ".public_key"));
    if (!key)
      fail(n["public_key"], field + ".public_key",
           "expected 44 base64 characters (as `zeqvpnctl pubkey` prints), got " + shown(n["public_key"]));
    r.public_key = *key;
    if (n["zid"]) {
      r.zid = string_of(n["zid"], field + ".zid");
      if (!is_valid_zid(r.zid)) fail(n["zid"], field + ".zid", "expected 'zeq-' and 12 lowercase hex digits, got '" + r.zid + "'");
    } else {
      r.zid = zid_from_public_key(r.public_key);
    }
    if (!n["endpoint"])
      fail(n, field + ".endpoint", "missing; a relay is reached at a known address: give host:port or address:port, "
                                   "like relay.example.org:51820");
    endpoint_of(n["endpoint"], field + ".endpoint", r);
    return r;
  }

  std::vector<RelayConfig> relays_of(const YAML::Node& list) const {
    if (!list.IsSequence()) fail(list, "relays", "expected a list of relays ({name, public_key, endpoint}), got " + shown(list));
    std::vector<RelayConfig> out;
    for (size_t i = 0; i < list.size(); ++i) out.push_back(relay_of(list[i], "relays[" + std::to_string(i) + "]"));
    return out;
  }

  RelayChoiceConfig relay_choice_of(const YAML::Node& n) const {
    only_keys(n, "relay_choice", {"max_price", "direct_attempts", "tcp_port"});
    RelayChoiceConfig c;
    if (n["max_price"]) c.max_price = uint64_t(integer_of(n["max_price"], "relay_choice.max_price", 0, MAX_PRICE));
    if (n["direct_attempts"]) c.direct_attempts = int(integer_of(n["direct_attempts"], "relay_choice.direct_attempts", 0, 10));
    if (const auto& t = n["tcp_port"]) {
      if (t.IsScalar() && t.Scalar() == "off") c.tcp_port = 0;
      else c.tcp_port = uint16_t(integer_of(t, "relay_choice.tcp_port", 1, 65535));
    }
    return c;
  }

  // Peers and relays together: no key, ZID or name twice, and no name that
  // is another one's ZID (the peers among themselves are peers_of's).
  void refuse_shared_identities(const YAML::Node& root, const std::vector<PeerConfig>& peers,
                                const std::vector<RelayConfig>& relays) const {
    struct Who {
      std::string field, name, zid;
      PublicKey key;
      YAML::Node node;
    };
    std::vector<Who> all;
    for (size_t i = 0; i < peers.size(); ++i)
      all.push_back({"peers[" + std::to_string(i) + "]", peers[i].name, peers[i].zid, peers[i].public_key, root["peers"][i]});
    const size_t first_relay = all.size();
    for (size_t i = 0; i < relays.size(); ++i)
      all.push_back({"relays[" + std::to_string(i) + "]", relays[i].name, relays[i].zid, relays[i].public_key, root["relays"][i]});
    auto at = [](const YAML::Node& n, const char* key) { return n[key] ? n[key] : n; };
    auto kind = [&](size_t j) { return std::string(j < first_relay ? "peer" : "relay"); };
    for (size_t i = first_relay; i < all.size(); ++i) {
      const Who& r = all[i];
      for (size_t j = 0; j < all.size(); ++j) {
        if (j == i) continue;
        const Who& o = all[j];
        const std::string fix = j < first_relay ? "; a node is either a peer or a relay here, list it once"
                                                : "; list each relay once";
        if (j < i && o.key == r.key)
          fail(at(r.node, "public_key"), r.field + ".public_key", "this key is also " + o.field + "'s" + fix);
        if (j < i && o.zid == r.zid)
          fail(at(r.node, "zid"), r.field + ".zid", "ZID " + r.zid + " is also " + o.field + "'s" + fix);
        if (j < i && !o.name.empty() && o.name == r.name)
          fail(at(r.node, "name"), r.field + ".name",
               "'" + r.name + "' is also the name of " + o.field + "; give each " + kind(j) + " and relay its own name");
        if (r.name == o.zid)
          fail(at(r.node, "name"), r.field + ".name",
               "'" + r.name + "' is the ZID of " + o.field + "; give this relay a name that is not a ZID");
        if (j < first_relay && !o.name.empty() && o.name == r.zid)
          fail(at(o.node, "name"), o.field + ".name",
               "'" + o.name + "' is the ZID of " + r.field + "; give this peer a name that is not a ZID");
      }
    }
  }

  // What a relay cannot do: it has no TUN device (ARCHITECTURE.md), so
  // nothing that needs one is accepted, each with its own line.
  void refuse_tunnel_settings_on_relay(const YAML::Node& root, const Config& c) const {
    if (c.kill_switch.mode != KillSwitchMode::kOff)
      fail(root["kill_switch"], "kill_switch",
           std::string("'") + to_string(c.kill_switch.mode) + "' is not possible: " + NO_TUN_ON_RELAY +
               " to guard; remove kill_switch or set it to off");
    // Checked before exit_of, whose own errors would not say why.
    const YAML::Node exit_section = root["exit"];
    if (exit_section && exit_section.IsMap() && exit_section["enabled"] && bool_of(exit_section["enabled"], "exit.enabled"))
      fail(exit_section["enabled"], "exit.enabled",
           std::string(NO_TUN_ON_RELAY) + ", so it cannot be an exit; remove exit or set enabled: false");
    if (root["exit_node"])
      fail(root["exit_node"], "exit_node",
           std::string(NO_TUN_ON_RELAY) + " to send its traffic through an exit; remove exit_node");
    for (size_t i = 0; i < c.peers.size(); ++i)
      for (const auto& a : c.peers[i].allowed_ips)
        if (a.length == 0)
          fail(root["peers"][i]["allowed_ips"], "peers[" + std::to_string(i) + "].allowed_ips",
               a.to_string() + " would make this peer the exit, but " + NO_TUN_ON_RELAY + "; remove the default route");
    if (c.dns.offer)
      fail(root["dns"]["offer"], "dns.offer", std::string(NO_TUN_ON_RELAY) + " to offer a resolver on; remove dns.offer");
    if (c.cover != CoverMode::kOff)
      fail(root["cover"], "cover",
           std::string(NO_TUN_ON_RELAY) + " and sends no cover traffic; remove cover or set it to off");
    for (size_t i = 0; i < c.peers.size(); ++i) {
      const std::string field = "peers[" + std::to_string(i) + "]";
      if (c.peers[i].cover && *c.peers[i].cover != CoverMode::kOff)
        fail(root["peers"][i]["cover"], field + ".cover",
             std::string(NO_TUN_ON_RELAY) + " and sends no cover traffic; remove this peer's cover or set it to off");
      if (c.peers[i].via == PeerPath::kRelay)
        fail(root["peers"][i]["via"], field + ".via",
             "a relay does not reach its peers through other relays; remove via or set it to direct");
    }
  }

  // yaml-cpp keeps both entries of a key given twice and `node[key]` finds
  // the first, so the second would be ignored without a word. Every mapping
  // of the file is checked, in the file's order; a node reached again
  // through an alias (same position) is walked once.
  void refuse_duplicate_keys(const YAML::Node& n, const std::string& field, std::set<size_t>& walked) const {
    if (!n.IsMap() && !n.IsSequence()) return;
    if (!walked.insert(size_t(n.Mark().pos)).second) return;
    if (n.IsSequence()) {
      for (size_t i = 0; i < n.size(); ++i) refuse_duplicate_keys(n[i], field + "[" + std::to_string(i) + "]", walked);
      return;
    }
    std::map<std::string, int> lines;  // key -> line it was first given on
    for (const auto& kv : n) {
      std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      std::string path = field.empty() ? name : field + "." + name;
      if (kv.first.IsScalar()) {
        auto [first, fresh] = lines.emplace(name, kv.first.Mark().line + 1);
        if (!fresh)
          fail(kv.first, path, "given twice (first on line " + std::to_string(first->second) +
                                   "); give each key once and delete or merge the other");
      }
      refuse_duplicate_keys(kv.second, path, walked);
    }
  }

  Config config_of(const YAML::Node& root) const {
    if (!root.IsMap()) fail(root, "(top level)", "expected a mapping with 'interface' and 'peers'");
    std::set<size_t> walked;
    refuse_duplicate_keys(root, "", walked);
    only_keys(root, "", {"interface", "peers", "control", "state", "kill_switch", "allow_lan", "fwmark", "dns_via_peer",
                         "dns", "cover", "padding", "log_level", "exit", "exit_node", "block_ipv6_leaks", "route_table", "mesh",
                         "directory", "role", "relay", "relays", "relay_choice", "metrics", "enrollment"});
    Config c;
    c.source = source_;
    if (root["role"]) c.role = enum_of(root["role"], "role", NODE_ROLE_NAMES);
    const bool relay = c.role == NodeRole::kRelay;
    if (!relay && !root["interface"]) fail(root, "interface", "missing; see zeqvpn.yaml(5) or examples/zeqvpn.yaml");
    if (root["interface"]) c.interface = interface_of(root["interface"], c.role);
    if (root["control"]) c.control = control_of(root["control"]);
    if (root["state"]) c.state = state_of(root["state"]);
    if (root["metrics"]) c.metrics = metrics_of(root["metrics"]);
    if (root["cover"]) c.cover = enum_of(root["cover"], "cover", COVER_MODE_NAMES);
    if (root["padding"]) c.padding = enum_of(root["padding"], "padding", PADDING_POLICY_NAMES);
    c.kill_switch = kill_switch_of(root);
    c.dns = dns_of(root);
    if (root["log_level"]) c.log_level = log_level_of(root["log_level"]);
    if (root["peers"]) c.peers = peers_of(root["peers"], c.role);
    if (relay) {
      refuse_tunnel_settings_on_relay(root, c);
      // No interface to point the system resolver at: a relay never takes
      // a peer's resolver (its clients may well offer theirs).
      c.dns.via_peer = false;
    }
    if (root["exit"]) c.exit = exit_of(root["exit"], c.peers);
    if (root["mesh"]) c.mesh = mesh_of(root["mesh"]);
    if (root["directory"]) c.directory = directory_of(root["directory"], c.mesh);
    if (root["enrollment"]) c.enrollment = enrollment_of(root["enrollment"], c.mesh);
    if (const auto& r = root["relay"]) {
      if (!relay)
        fail(r, "relay", "this section configures a relay, but role is node (the default); set `role: relay` or "
                         "remove the relay section");
      c.relay = relay_role_of(r);
    }
    if (const auto& list = root["relays"]) {
      c.relays = relays_of(list);
      if (relay && !c.relays.empty())
        fail(list, "relays", "a relay does not use relays; remove the relays section (or set role: node)");
    }
    if (root["relay_choice"]) c.relay_choice = relay_choice_of(root["relay_choice"]);
    refuse_shared_identities(root, c.peers, c.relays);
    for (size_t i = 0; i < c.peers.size(); ++i)
      if (c.peers[i].via == PeerPath::kRelay && c.relays.empty() && c.mesh.ca.empty())
        fail(root["peers"][i]["via"], "peers[" + std::to_string(i) + "].via",
             "relay needs a relay to go through: list one under relays, or set mesh.ca so relays come from the directory");
    c.exit_client = exit_client_of(root, c.peers, c.exit.enabled);
    return c;
  }

 private:
  std::string source_;
};

}  // namespace

Status refuse_own_key_as_peer(const Config& config, const PublicKey& own_key) {
  std::string own_zid = zid_from_public_key(own_key);
  for (size_t i = 0; i < config.peers.size(); ++i) {
    const PeerConfig& p = config.peers[i];
    if (p.public_key != own_key && p.zid != own_zid) continue;
    std::string field = "peers[" + std::to_string(i) + "]" + (p.name.empty() ? "" : " (" + p.name + ")");
    return Status::error(config.source + ": " + field + ": " + (p.public_key == own_key ? "public_key" : "zid") +
                         " is this node's own (" + own_zid + "); remove that peer from this node's file, a node "
                         "does not peer with itself");
  }
  for (size_t i = 0; i < config.relays.size(); ++i) {
    const RelayConfig& r = config.relays[i];
    if (r.public_key != own_key && r.zid != own_zid) continue;
    return Status::error(config.source + ": relays[" + std::to_string(i) + "] (" + r.name + "): " +
                         (r.public_key == own_key ? "public_key" : "zid") + " is this node's own (" + own_zid +
                         "); remove that relay from this node's file, a node does not relay for itself");
  }
  return Status::ok();
}

std::optional<size_t> exit_peer_index(const Config& config) {
  for (size_t i = 0; i < config.peers.size(); ++i) {
    const PeerConfig& p = config.peers[i];
    if (!config.exit_client.exit_node.empty() &&
        (p.name == config.exit_client.exit_node || p.zid == config.exit_client.exit_node))
      return i;
    for (const auto& a : p.allowed_ips)
      if (a.length == 0) return i;
  }
  return std::nullopt;
}

uint32_t exit_route_table(const Config& config) {
  return config.exit_client.route_table ? config.exit_client.route_table : config.kill_switch.fwmark;
}

Result<Config> parse_config(const std::string& yaml_text, const std::string& source) {
  try {
    YAML::Node root = YAML::Load(yaml_text);
    return Parser(source).config_of(root);
  } catch (const ConfigError& e) {
    return Status::error(e.message);
  } catch (const YAML::Exception& e) {
    return Status::error(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                         ": not valid YAML: " + e.msg);
  }
}

}  // namespace zeq
