// The relay feature's YAML (issue 13): role, relay, relays, relay_choice and
// peers' via; what a relay (no TUN device) refuses; what a node keeps.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/config.hpp"
#include "identity/key_file.hpp"
#include "identity/zid.hpp"

namespace zeq {

namespace {
const std::string PEER_KEY = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=";  // zeq-aaa8fff703b5
const std::string R1_KEY = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const std::string R2_KEY = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const std::string P2_KEY = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";

std::string zid_of(const std::string& key) { return zid_from_public_key(*decode_key(key)); }

// A node with one peer (beta, lines 4-7).
std::string node_yaml() {
  return "interface:\n"
         "  addresses: [10.77.0.1/24]\n"
         "peers:\n"
         "  - name: beta\n"
         "    public_key: " + PEER_KEY + "\n"
         "    endpoint: 198.18.0.2:51900\n"
         "    allowed_ips: [10.77.0.2/32]\n";
}

// A relay: no interface section, a peer without allowed_ips (line 4 on).
std::string relay_yaml() {
  return "role: relay\n"
         "peers:\n"
         "  - name: beta\n"
         "    public_key: " + PEER_KEY + "\n";
}

std::string relays_section() {
  return "relays:\n"
         "  - name: r1\n"
         "    public_key: " + R1_KEY + "\n"
         "    endpoint: 203.0.113.10:51820\n";
}

void expect_error(const std::string& yaml, const std::string& where, const std::string& fragment) {
  auto c = parse_config(yaml, "test.yaml");
  ASSERT_FALSE(c) << "accepted:\n" << yaml;
  EXPECT_NE(c.message().find(where), std::string::npos) << c.message();
  EXPECT_NE(c.message().find(fragment), std::string::npos) << c.message();
}

Config parsed(const std::string& yaml) {
  auto c = parse_config(yaml, "test.yaml");
  EXPECT_TRUE(c) << c.message() << "\n" << yaml;
  return c ? *c : Config{};
}
}  // namespace

TEST(ConfigRelay, DefaultsWithoutTheNewKeys) {
  Config c = parsed(node_yaml());
  EXPECT_EQ(c.role, NodeRole::kNode);
  EXPECT_TRUE(c.relays.empty());
  EXPECT_EQ(c.peers[0].via, PeerPath::kAuto);
  EXPECT_EQ(c.relay_choice, RelayChoiceConfig{});
  EXPECT_FALSE(c.relay_choice.max_price);
  EXPECT_EQ(c.relay_choice.direct_attempts, 2);
  EXPECT_EQ(c.relay, RelayRoleConfig{});
  EXPECT_EQ(c.relay.metadata_log, RelayMetadataLog::kOff);
  EXPECT_EQ(parsed("role: node\n" + node_yaml()).role, NodeRole::kNode);
}

TEST(ConfigRelay, RoleMustBeNodeOrRelay) {
  expect_error("role: server\n" + node_yaml(), "test.yaml:1:7: role", "expected one of node, relay, got 'server'");
  expect_error("role: [relay]\n" + node_yaml(), "role", "expected a string");
}

TEST(ConfigRelay, RelayNeedsNoInterfaceNorAllowedIps) {
  Config c = parsed(relay_yaml());
  EXPECT_EQ(c.role, NodeRole::kRelay);
  EXPECT_TRUE(c.interface.addresses.empty());
  EXPECT_EQ(c.interface.listen_port, 51820);
  ASSERT_EQ(c.peers.size(), 1u);
  EXPECT_TRUE(c.peers[0].allowed_ips.empty());
  EXPECT_EQ(c.relay, RelayRoleConfig{});  // all defaults without a relay section

  // An interface without addresses: its port and key file are used.
  Config d = parsed(relay_yaml() + "interface: {listen_port: 51999, identity_key_file: /etc/zeqvpn/relay.key}\n");
  EXPECT_EQ(d.interface.listen_port, 51999);
  EXPECT_TRUE(d.interface.addresses.empty());
  // Given anyway, they are still checked, as are allowed_ips.
  EXPECT_EQ(parsed(relay_yaml() + "interface: {addresses: [10.77.0.9/24]}\n").interface.addresses.size(), 1u);
  expect_error(relay_yaml() + "interface: {addresses: [10.77.0.9]}\n", "interface.addresses[0]", "no prefix length");
  expect_error(relay_yaml() + "    allowed_ips: [10.77.0.300/32]\n", "test.yaml:5:", "peers[0].allowed_ips[0]: expected an IP prefix");
  EXPECT_EQ(parsed(relay_yaml() + "    allowed_ips: [10.77.0.2/32]\n").peers[0].allowed_ips.size(), 1u);
}

TEST(ConfigRelay, NodeKeepsTodaysRules) {
  expect_error("interface: {addresses: [10.77.0.1/24]}\npeers:\n  - public_key: " + PEER_KEY + "\n",
               "peers[0].allowed_ips", "missing; list the prefixes");
  expect_error("role: node\npeers: []\n", "interface", "missing");
  expect_error("interface: {listen_port: 5}\n", "interface.addresses", "missing");
  expect_error("interface: {addresses: []}\n", "interface.addresses", "at least one");
  // A node may still use every setting a relay refuses.
  EXPECT_TRUE(parse_config(node_yaml() + "kill_switch: always\ncover: constant\ndns: {offer: 10.77.0.1}\n"
                           "exit_node: beta\n", "test.yaml"));
}

TEST(ConfigRelay, RelaySectionAllKeys) {
  Config c = parsed(relay_yaml() +
                    "relay:\n"
                    "  metadata_log: summary\n"
                    "  metadata_log_file: /var/log/zeqvpn/r.log\n"
                    "  metadata_retention: 3600\n"
                    "  price: {per_gb: 5}\n"
                    "  region: eu-west.1_a\n"
                    "  limits:\n"
                    "    client_bytes_per_s: 50000000\n"
                    "    pair_bytes_per_s: 25000000\n"
                    "    pairs_per_client: 4\n"
                    "    queued_bytes_per_client: 65536\n");
  EXPECT_EQ(c.relay.metadata_log, RelayMetadataLog::kSummary);
  EXPECT_EQ(c.relay.metadata_log_file, "/var/log/zeqvpn/r.log");
  EXPECT_EQ(c.relay.metadata_retention_z, 3600u);
  EXPECT_EQ(c.relay.price_unit, PricingUnit::kGb);
  EXPECT_EQ(c.relay.price, 5u);
  EXPECT_EQ(c.relay.region, "eu-west.1_a");
  EXPECT_EQ(c.relay.limits.client_bytes_per_s, 50'000'000u);
  EXPECT_EQ(c.relay.limits.pair_bytes_per_s, 25'000'000u);
  EXPECT_EQ(c.relay.limits.pairs_per_client, 4u);
  EXPECT_EQ(c.relay.limits.queued_bytes_per_client, 65'536u);

  Config z = parsed(relay_yaml() + "relay: {metadata_log: off, price: {per_zeqond: 0}, region: " + std::string(32, 'x') + "}\n");
  EXPECT_EQ(z.relay.metadata_log, RelayMetadataLog::kOff);
  EXPECT_EQ(z.relay.price_unit, PricingUnit::kZeqond);
  EXPECT_EQ(z.relay.price, 0u);
  EXPECT_EQ(z.relay.region.size(), 32u);
  EXPECT_EQ(parsed(relay_yaml() + "relay: {metadata_retention: 1}\n").relay.metadata_retention_z, 1u);
  // An empty section is the defaults.
  EXPECT_EQ(parsed(relay_yaml() + "relay: {}\n").relay, RelayRoleConfig{});
}

TEST(ConfigRelay, RelaySectionErrors) {
  const std::string y = relay_yaml();
  expect_error(y + "relay: {metadata_log: full}\n", "test.yaml:5:", "relay.metadata_log: expected one of off, summary, got 'full'");
  expect_error(y + "relay: {metadata_log_file: relay.log}\n", "relay.metadata_log_file", "expected an absolute path");
  expect_error(y + "relay: {metadata_retention: 0}\n", "relay.metadata_retention", "expected an integer from 1 to");
  expect_error(y + "relay: {metadata_retention: 1.5}\n", "relay.metadata_retention", "got '1.5'");
  expect_error(y + "relay: {price: {per_gb: 1, per_zeqond: 2}}\n", "relay.price", "expected exactly one of per_gb or per_zeqond");
  expect_error(y + "relay: {price: {}}\n", "relay.price", "expected exactly one of per_gb or per_zeqond");
  expect_error(y + "relay: {price: 5}\n", "relay.price", "expected a mapping, got '5'");
  expect_error(y + "relay: {price: {per_hour: 5}}\n", "relay.price.per_hour", "unknown key; expected one of: per_gb, per_zeqond");
  expect_error(y + "relay: {price: {per_gb: -1}}\n", "relay.price.per_gb", "expected an integer from 0 to");
  expect_error(y + "relay: {price: {per_zeqond: x}}\n", "relay.price.per_zeqond", "got 'x'");
  expect_error(y + "relay: {region: eu west}\n", "relay.region", "expected a label of 1 to 32 letters, digits, '.', '_' or '-'");
  expect_error(y + "relay: {region: " + std::string(33, 'x') + "}\n", "relay.region", "1 to 32");
  expect_error(y + "relay: {region: ''}\n", "relay.region", "1 to 32");
  expect_error(y + "relay: {colour: red}\n", "relay.colour", "unknown key; expected one of: metadata_log,");
  expect_error(y + "relay: off\n", "relay", "expected a mapping");
}

TEST(ConfigRelay, RelayLimits) {
  const std::string y = relay_yaml();
  for (const char* key : {"client_bytes_per_s", "pair_bytes_per_s", "pairs_per_client"})
    expect_error(y + "relay: {limits: {" + key + ": 0}}\n", std::string("relay.limits.") + key, "expected an integer from 1");
  expect_error(y + "relay:\n  limits: {client_bytes_per_s: 1000, pair_bytes_per_s: 2000}\n", "test.yaml:6:",
               "relay.limits.pair_bytes_per_s: 2000 is above client_bytes_per_s (1000); a pair is one client's, so "
               "lower pair_bytes_per_s or raise client_bytes_per_s");
  // Against the default client rate too.
  expect_error(y + "relay: {limits: {pair_bytes_per_s: 20000000}}\n", "relay.limits.pair_bytes_per_s",
               "above client_bytes_per_s (12500000)");
  expect_error(y + "relay: {limits: {queued_bytes_per_client: 65535}}\n", "relay.limits.queued_bytes_per_client",
               "65535 is below 65536; a client must be able to queue one message of the largest size, so give at least 65536");
  expect_error(y + "relay: {limits: {queued: 1}}\n", "relay.limits.queued",
               "unknown key; expected one of: client_bytes_per_s, pair_bytes_per_s, pairs_per_client, queued_bytes_per_client");
  // A lower client rate without a pair rate lowers the pair's default with it.
  Config c = parsed(y + "relay: {limits: {client_bytes_per_s: 1000000}}\n");
  EXPECT_EQ(c.relay.limits.client_bytes_per_s, 1'000'000u);
  EXPECT_EQ(c.relay.limits.pair_bytes_per_s, 1'000'000u);
  EXPECT_EQ(c.relay.limits.pairs_per_client, 16u);
  EXPECT_EQ(c.relay.limits.queued_bytes_per_client, 1'048'576u);
  // Equal is fine.
  EXPECT_EQ(parsed(y + "relay: {limits: {client_bytes_per_s: 7, pair_bytes_per_s: 7}}\n").relay.limits.pair_bytes_per_s, 7u);
}

TEST(ConfigRelay, RelaySectionNeedsRoleRelay) {
  expect_error(node_yaml() + "relay: {metadata_log: summary}\n", "test.yaml:8:",
               "relay: this section configures a relay, but role is node (the default); set `role: relay` or remove "
               "the relay section");
  expect_error("role: node\n" + node_yaml() + "relay: {}\n", "relay", "set `role: relay` or remove");
}

TEST(ConfigRelay, RelaysList) {
  Config c = parsed(node_yaml() +
                    "relays:\n"
                    "  - name: r1\n"
                    "    public_key: " + R1_KEY + "\n"
                    "    endpoint: 203.0.113.10:51820\n"
                    "  - name: r2\n"
                    "    zid: zeq-0123456789ab\n"
                    "    public_key: " + R2_KEY + "\n"
                    "    endpoint: relay2.example.org:51821\n"
                    "  - name: r3\n"
                    "    public_key: " + P2_KEY + "\n"
                    "    endpoint: \"[2001:db8::10]:51820\"\n");
  ASSERT_EQ(c.relays.size(), 3u);
  EXPECT_EQ(c.relays[0].name, "r1");
  EXPECT_EQ(c.relays[0].zid, zid_of(R1_KEY));  // derived from the key
  EXPECT_EQ(c.relays[0].public_key, *decode_key(R1_KEY));
  ASSERT_TRUE(c.relays[0].endpoint);
  EXPECT_EQ(c.relays[0].endpoint->to_string(), "203.0.113.10:51820");
  EXPECT_TRUE(c.relays[0].endpoint_host.empty());
  EXPECT_EQ(c.relays[1].zid, "zeq-0123456789ab");
  EXPECT_FALSE(c.relays[1].endpoint);
  EXPECT_EQ(c.relays[1].endpoint_host, "relay2.example.org");
  EXPECT_EQ(c.relays[1].endpoint_port, 51821);
  EXPECT_EQ(c.relays[2].endpoint->to_string(), "[2001:db8::10]:51820");
  EXPECT_TRUE(parsed(node_yaml() + "relays: []\n").relays.empty());
}

TEST(ConfigRelay, RelaysListErrors) {
  const std::string y = node_yaml();
  auto one = [&](const std::string& body) { return y + "relays:\n  - " + body; };
  const std::string key = "public_key: " + R1_KEY;
  expect_error(one("name: r1\n    " + key + "\n"), "relays[0].endpoint",
               "missing; a relay is reached at a known address: give host:port or address:port");
  expect_error(one("name: r1\n    " + key + "\n    endpoint: relay.example.org\n"), "test.yaml:11:",
               "relays[0].endpoint: expected a host name and port like vpn.example.org:51820, or a numeric address and port");
  expect_error(one("name: r1\n    " + key + "\n    endpoint: relay.example.org\n"), "relays[0].endpoint", "(no port)");
  expect_error(one("name: r1\n    " + key + "\n    endpoint: bad_host:51820\n"), "relays[0].endpoint", "not a host name");
  expect_error(one("name: r1\n    " + key + "\n    endpoint: 198.51.100.1:0\n"), "relays[0].endpoint", "expected a host name and port");
  expect_error(one(key + "\n    endpoint: 198.51.100.1:1\n"), "relays[0].name", "missing; give the relay a name");
  expect_error(one("name: ''\n    " + key + "\n    endpoint: 198.51.100.1:1\n"), "relays[0].name", "non-empty");
  expect_error(one("name: r1\n    endpoint: 198.51.100.1:1\n"), "relays[0].public_key", "missing; give the relay's key");
  expect_error(one("name: r1\n    public_key: short\n    endpoint: 198.51.100.1:1\n"), "relays[0].public_key",
               "expected 44 base64 characters");
  expect_error(one("name: r1\n    zid: zeq-XYZ\n    " + key + "\n    endpoint: 198.51.100.1:1\n"), "relays[0].zid",
               "expected 'zeq-' and 12 lowercase hex digits, got 'zeq-XYZ'");
  expect_error(one("name: r1\n    " + key + "\n    endpoint: 198.51.100.1:1\n    allowed_ips: [10.0.0.0/8]\n"),
               "relays[0].allowed_ips", "unknown key; expected one of: name, zid, public_key, endpoint");
  expect_error(y + "relays: {name: r1}\n", "relays", "expected a list of relays");
}

TEST(ConfigRelay, RelaysAndPeersAreEachListedOnce) {
  const std::string y = node_yaml() + relays_section();
  auto relay2 = [](const std::string& name, const std::string& key, const std::string& extra = "") {
    return "  - name: " + name + "\n    public_key: " + key + "\n" + extra + "    endpoint: 203.0.113.11:51820\n";
  };
  expect_error(y + relay2("r2", R1_KEY), "relays[1].public_key", "this key is also relays[0]'s; list each relay once");
  expect_error(y + relay2("r2", R2_KEY, "    zid: " + zid_of(R1_KEY) + "\n"), "relays[1].zid",
               "ZID " + zid_of(R1_KEY) + " is also relays[0]'s; list each relay once");
  expect_error(y + relay2("r1", R2_KEY), "relays[1].name", "'r1' is also the name of relays[0]");
  // A relay and a peer.
  expect_error(y + relay2("r2", PEER_KEY), "relays[1].public_key",
               "this key is also peers[0]'s; a node is either a peer or a relay here, list it once");
  expect_error(y + relay2("r2", R2_KEY, "    zid: zeq-aaa8fff703b5\n"), "relays[1].zid",
               "ZID zeq-aaa8fff703b5 is also peers[0]'s; a node is either a peer or a relay here");
  expect_error(y + relay2("beta", R2_KEY), "relays[1].name", "'beta' is also the name of peers[0]");
  // Names that are another's ZID, both ways.
  expect_error(y + relay2("zeq-aaa8fff703b5", R2_KEY), "relays[1].name",
               "'zeq-aaa8fff703b5' is the ZID of peers[0]; give this relay a name that is not a ZID");
  expect_error(y + relay2(zid_of(R1_KEY), R2_KEY), "relays[1].name", "is the ZID of relays[0]");
  std::string peer_named_like_relay = "interface:\n  addresses: [10.77.0.1/24]\npeers:\n  - name: " + zid_of(R1_KEY) +
                                      "\n    public_key: " + PEER_KEY + "\n    allowed_ips: [10.77.0.2/32]\n" + relays_section();
  expect_error(peer_named_like_relay, "peers[0].name", "is the ZID of relays[0]; give this peer a name that is not a ZID");
  // A relay may carry its own ZID as its name.
  EXPECT_TRUE(parse_config(node_yaml() + "relays:\n" + relay2(zid_of(R2_KEY), R2_KEY), "test.yaml"));
}

TEST(ConfigRelay, ARelayUsesNoRelays) {
  expect_error(relay_yaml() + relays_section(), "test.yaml:6:",
               "relays: a relay does not use relays; remove the relays section (or set role: node)");
  EXPECT_TRUE(parsed(relay_yaml() + "relays: []\n").relays.empty());
  expect_error(relay_yaml() + "    via: relay\n", "peers[0].via",
               "a relay does not reach its peers through other relays; remove via or set it to direct");
  EXPECT_EQ(parsed(relay_yaml() + "    via: direct\n").peers[0].via, PeerPath::kDirect);
}

TEST(ConfigRelay, RelayChoice) {
  Config c = parsed(node_yaml() + "relay_choice: {max_price: 10, direct_attempts: 0}\n");
  ASSERT_TRUE(c.relay_choice.max_price);
  EXPECT_EQ(*c.relay_choice.max_price, 10u);
  EXPECT_EQ(c.relay_choice.direct_attempts, 0);
  EXPECT_EQ(parsed(node_yaml() + "relay_choice: {direct_attempts: 10}\n").relay_choice.direct_attempts, 10);
  EXPECT_EQ(*parsed(node_yaml() + "relay_choice: {max_price: 0}\n").relay_choice.max_price, 0u);
  expect_error(node_yaml() + "relay_choice: {direct_attempts: 11}\n", "relay_choice.direct_attempts",
               "expected an integer from 0 to 10, got '11'");
  expect_error(node_yaml() + "relay_choice: {direct_attempts: -1}\n", "relay_choice.direct_attempts", "from 0 to 10");
  expect_error(node_yaml() + "relay_choice: {max_price: -1}\n", "relay_choice.max_price", "expected an integer from 0");
  expect_error(node_yaml() + "relay_choice: {max_rtt: 5}\n", "relay_choice.max_rtt",
               "unknown key; expected one of: max_price, direct_attempts");
}

TEST(ConfigRelay, PeerVia) {
  EXPECT_EQ(parsed(node_yaml() + "    via: direct\n").peers[0].via, PeerPath::kDirect);
  EXPECT_EQ(parsed(node_yaml() + "    via: auto\n").peers[0].via, PeerPath::kAuto);
  Config c = parsed(node_yaml() + "    via: relay\n" + relays_section());
  EXPECT_EQ(c.peers[0].via, PeerPath::kRelay);
  // Relays from the directory: mesh.ca is enough.
  EXPECT_EQ(parsed(node_yaml() + "    via: relay\nmesh: {ca: /etc/zeqvpn/ca.pub}\n").peers[0].via, PeerPath::kRelay);
  expect_error(node_yaml() + "    via: relay\n", "test.yaml:8:",
               "peers[0].via: relay needs a relay to go through: list one under relays, or set mesh.ca so relays come "
               "from the directory");
  expect_error(node_yaml() + "    via: relays\n", "peers[0].via", "expected one of auto, relay, direct, got 'relays'");
}

TEST(ConfigRelay, ARelayRefusesWhatNeedsATunnelInterface) {
  const std::string y = relay_yaml();
  const std::string why = "a relay (role: relay) has no tunnel interface";
  expect_error(y + "kill_switch: on_drop\n", "test.yaml:5:", "kill_switch: 'on_drop' is not possible: " + why +
                                                                 " to guard; remove kill_switch or set it to off");
  expect_error(y + "kill_switch: always\n", "kill_switch", why);
  EXPECT_TRUE(parse_config(y + "kill_switch: off\n", "test.yaml"));
  expect_error(y + "exit: {enabled: true}\n", "exit.enabled", why + ", so it cannot be an exit; remove exit or set enabled: false");
  EXPECT_TRUE(parse_config(y + "exit: {enabled: false}\n", "test.yaml"));
  expect_error(y + "exit_node: beta\n", "exit_node", why + " to send its traffic through an exit; remove exit_node");
  expect_error(y + "    allowed_ips: [0.0.0.0/0]\n", "peers[0].allowed_ips",
               "0.0.0.0/0 would make this peer the exit, but " + why + "; remove the default route");
  expect_error(y + "dns: {offer: 10.77.0.1}\n", "dns.offer", why + " to offer a resolver on; remove dns.offer");
  EXPECT_TRUE(parse_config(y + "dns: {resolv_conf: /etc/resolv.conf}\n", "test.yaml"));
  expect_error(y + "cover: constant\n", "cover", why + " and sends no cover traffic; remove cover or set it to off");
  expect_error(y + "cover: probabilistic\n", "cover", why);
  EXPECT_TRUE(parse_config(y + "cover: off\n", "test.yaml"));
  expect_error(y + "    cover: constant\n", "peers[0].cover", why + " and sends no cover traffic; remove this peer's cover");
  EXPECT_TRUE(parse_config(y + "    cover: off\n", "test.yaml"));
}

TEST(ConfigRelay, OwnKeyIsNoRelay) {
  Config c = parsed(node_yaml() + relays_section());
  Status s = refuse_own_key_as_peer(c, *decode_key(R1_KEY));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "test.yaml: relays[0] (r1): public_key is this node's own (" + zid_of(R1_KEY) +
                             "); remove that relay from this node's file, a node does not relay for itself");
  EXPECT_TRUE(refuse_own_key_as_peer(c, *decode_key(R2_KEY)));
}

TEST(ConfigRelay, ExampleFilesParse) {
  for (const char* name : {"relay.yaml", "zeqvpn.yaml"}) {
    std::string path = std::string(ZEQ_EXAMPLES_DIR) + "/" + name;
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::stringstream text;
    text << in.rdbuf();
    auto c = parse_config(text.str(), path);
    ASSERT_TRUE(c) << c.message();
    if (std::string(name) == "relay.yaml") {
      EXPECT_EQ(c->role, NodeRole::kRelay);
      EXPECT_TRUE(c->relays.empty());
    }
  }
}

}  // namespace zeq

namespace zeq {

// Relay over TCP (issue 16): relay.tcp_listen on a relay, relay_choice.tcp_port
// on a node; both default to 443 and both can be off.
TEST(ConfigRelay, RelayOverTcp) {
  Config relay = parsed(relay_yaml());
  ASSERT_TRUE(relay.relay.tcp_listen);
  EXPECT_EQ(relay.relay.tcp_listen->to_string(), "[::]:443");
  EXPECT_EQ(parsed(relay_yaml() + "relay: {tcp_listen: 8443}\n").relay.tcp_listen->to_string(), "[::]:8443");
  EXPECT_EQ(parsed(relay_yaml() + "relay: {tcp_listen: \"198.18.1.11:443\"}\n").relay.tcp_listen->to_string(),
            "198.18.1.11:443");
  EXPECT_FALSE(parsed(relay_yaml() + "relay: {tcp_listen: off}\n").relay.tcp_listen);
  expect_error(relay_yaml() + "relay: {tcp_listen: 70000}\n", "relay.tcp_listen", "65535");
  expect_error(relay_yaml() + "relay: {tcp_listen: \"relay.example.org:443\"}\n", "relay.tcp_listen",
               "expected a TCP port like 443");
  expect_error(relay_yaml() + "relay: {tcp_listen: \"::1:443\"}\n", "relay.tcp_listen", "brackets");

  Config node = parsed(node_yaml() + relays_section());
  EXPECT_EQ(node.relay_choice.tcp_port, 443);
  EXPECT_EQ(parsed(node_yaml() + relays_section() + "relay_choice: {tcp_port: 8443}\n").relay_choice.tcp_port, 8443);
  EXPECT_EQ(parsed(node_yaml() + relays_section() + "relay_choice: {tcp_port: off}\n").relay_choice.tcp_port, 0);
  expect_error(node_yaml() + relays_section() + "relay_choice: {tcp_port: 0}\n", "relay_choice.tcp_port", "1");
  expect_error(node_yaml() + relays_section() + "relay_choice: {tcp_port: https}\n", "relay_choice.tcp_port", "");
}

}  // namespace zeq
