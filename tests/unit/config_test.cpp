#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/secrets.hpp"
#include "identity/key_file.hpp"
#include "identity/zid.hpp"

namespace zeq {

namespace {
const std::string PEER_KEY = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=";  // vector initiator public key

std::string valid_yaml() {
  return "interface:\n"
         "  name: zeqt0\n"
         "  addresses: [10.77.0.1/24, fd77::1/64]\n"
         "  listen_port: 51900\n"
         "  identity_key_file: /etc/zeqvpn/node.key\n"
         "peers:\n"
         "  - name: beta\n"
         "    public_key: " + PEER_KEY + "\n"
         "    endpoint: 198.18.0.2:51900\n"
         "    allowed_ips: [10.77.0.2/32, fd77::2/128]\n"
         "    persistent_keepalive: 25\n";
}

void expect_error(const std::string& yaml, const std::string& where, const std::string& fragment) {
  auto c = parse_config(yaml, "test.yaml");
  ASSERT_FALSE(c) << "accepted:\n" << yaml;
  EXPECT_NE(c.message().find(where), std::string::npos) << c.message();
  EXPECT_NE(c.message().find(fragment), std::string::npos) << c.message();
}
}  // namespace

TEST(Config, ParsesValidFile) {
  auto c = parse_config(valid_yaml(), "test.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->interface.name, "zeqt0");
  EXPECT_EQ(c->interface.mtu, 1416);  // default
  EXPECT_EQ(c->interface.listen_port, 51900);
  ASSERT_EQ(c->interface.addresses.size(), 2u);
  EXPECT_EQ(c->interface.addresses[1].to_string(), "fd77::1/64");
  ASSERT_EQ(c->peers.size(), 1u);
  const auto& p = c->peers[0];
  EXPECT_EQ(p.zid, "zeq-aaa8fff703b5");  // derived from the key
  EXPECT_EQ(p.endpoint->to_string(), "198.18.0.2:51900");
  EXPECT_EQ(p.allowed_ips.size(), 2u);
  EXPECT_EQ(p.persistent_keepalive_s, 25);
}

TEST(Config, ErrorsNameFileLineFieldAndExpectation) {
  std::string y = valid_yaml();
  expect_error(std::string(y).replace(y.find("10.77.0.2/32"), 12, "10.77.0.300/32"), "test.yaml:10:",
               "peers[0].allowed_ips[0]: expected an IP prefix");
  expect_error(std::string(y).replace(y.find("51900\n"), 5, "99999"), "test.yaml:4:",
               "interface.listen_port: expected an integer from 1 to 65535, got '99999'");
  expect_error(std::string(y).replace(y.find(PEER_KEY), PEER_KEY.size(), "short"), "test.yaml:8:",
               "peers[0].public_key: expected 44 base64");
  expect_error(std::string(y).replace(y.find("198.18.0.2:51900"), 16, "somehost"), "peers[0].endpoint",
               "expected a host name and port like vpn.example.org:51820, or a numeric address and port");
  expect_error(y + "    colour: blue\n", "peers[0].colour", "unknown key");
  expect_error("interface: {addresses: []}\n", "interface.addresses", "at least one");
  expect_error(y + "state: {database: relative.db}\n", "state.database", "expected an absolute path");
  expect_error(y + "    billing: {unit: hour}\n", "peers[0].billing.unit", "expected one of gb, zeqond, got 'hour'");
  expect_error(y + "control: {sock: /x}\n", "control.sock", "unknown key");
  expect_error("interface: [1, 2\n", "test.yaml:", "not valid YAML");
  expect_error("peers: []\n", "interface", "missing");
}

TEST(Config, ControlStateAndBillingHaveDefaultsAndOverrides) {
  auto d = parse_config(valid_yaml(), "test.yaml");
  ASSERT_TRUE(d) << d.message();
  EXPECT_EQ(d->control.socket, "/run/zeqvpn/zeqvpnd.sock");
  EXPECT_EQ(d->control.group, "zeqvpn");
  EXPECT_EQ(d->state.database, "/var/lib/zeqvpn/state.db");
  EXPECT_EQ(d->peers[0].billing_unit, PricingUnit::kGb);
  EXPECT_EQ(d->peers[0].billing_price, 0u);
  auto c = parse_config(valid_yaml() + "    billing: {unit: zeqond, price: 7}\n"
                        "control: {socket: /tmp/z.sock, group: wheel}\nstate: {database: /tmp/z.db}\n", "test.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->control.socket, "/tmp/z.sock");
  EXPECT_EQ(c->control.group, "wheel");
  EXPECT_EQ(c->state.database, "/tmp/z.db");
  EXPECT_EQ(c->peers[0].billing_unit, PricingUnit::kZeqond);
  EXPECT_EQ(c->peers[0].billing_price, 7u);
}

TEST(Config, KillSwitchAndDns) {
  auto d = parse_config(valid_yaml(), "test.yaml");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kill_switch.mode, KillSwitchMode::kOff);
  EXPECT_FALSE(d->kill_switch.allow_lan);
  EXPECT_EQ(d->kill_switch.fwmark, 0x5a51u);
  EXPECT_TRUE(d->dns.via_peer);
  EXPECT_EQ(d->dns.resolv_conf, "/etc/resolv.conf");
  auto c = parse_config(valid_yaml() + "kill_switch: always\nallow_lan: true\nfwmark: 0x10\ndns_via_peer: false\n"
                        "dns: {offer: 10.77.0.1, resolv_conf: /tmp/r.conf}\n", "test.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->kill_switch.mode, KillSwitchMode::kAlways);
  EXPECT_TRUE(c->kill_switch.allow_lan);
  EXPECT_EQ(c->kill_switch.fwmark, 16u);
  EXPECT_FALSE(c->dns.via_peer);
  EXPECT_EQ(c->dns.offer, parse_ip_prefix("10.77.0.1"));
  EXPECT_FALSE(d->dns.offer);
  std::string y = valid_yaml();
  expect_error(y + "kill_switch: sometimes\n", "kill_switch", "expected one of off, on_drop, always, got 'sometimes'");
  expect_error(y + "allow_lan: maybe\n", "allow_lan", "expected true or false");
  expect_error(y + "fwmark: 0\n", "fwmark", "non-zero 32-bit mark");
  expect_error(y + "dns: {offer: 10.77.0.0/24}\n", "dns.offer", "IP address of a resolver");
}

TEST(Config, CoverAndPaddingPerNodeAndPeer) {
  auto d = parse_config(valid_yaml(), "test.yaml");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->cover, CoverMode::kOff);
  EXPECT_EQ(d->padding, PaddingPolicy::kNone);
  EXPECT_FALSE(d->peers[0].cover);  // inherits
  auto c = parse_config(valid_yaml() + "    cover: probabilistic\n    padding: buckets\ncover: constant\npadding: mtu\n", "test.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->cover, CoverMode::kConstant);
  EXPECT_EQ(c->padding, PaddingPolicy::kMtu);
  EXPECT_EQ(c->peers[0].cover, CoverMode::kProbabilistic);
  EXPECT_EQ(c->peers[0].padding, PaddingPolicy::kBuckets);
  expect_error(valid_yaml() + "cover: sometimes\n", "cover", "expected one of off, constant, probabilistic, got 'sometimes'");
  expect_error(valid_yaml() + "    padding: random\n", "peers[0].padding", "expected one of none, buckets, mtu");
}

// An endpoint is a numeric address and port or a host name (RFC 1123) and
// port; a bad one is refused with file:line:col, the field, the value, what
// is wrong with it and examples.
TEST(Config, EndpointHostNames) {
  const std::string y = valid_yaml();
  auto with = [&](const std::string& endpoint) {
    return std::string(y).replace(y.find("198.18.0.2:51900"), 16, endpoint);
  };
  auto c = parse_config(with("vpn.example.org:51820"), "test.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_FALSE(c->peers[0].endpoint);
  EXPECT_EQ(c->peers[0].endpoint_host, "vpn.example.org");
  EXPECT_EQ(c->peers[0].endpoint_port, 51820);
  auto one_label = parse_config(with("Gateway-2:1"), "test.yaml");
  ASSERT_TRUE(one_label) << one_label.message();
  EXPECT_EQ(one_label->peers[0].endpoint_host, "Gateway-2");
  auto numeric = parse_config(with("\"[2001:db8::7]:51820\""), "test.yaml");
  ASSERT_TRUE(numeric) << numeric.message();
  EXPECT_EQ(numeric->peers[0].endpoint->to_string(), "[2001:db8::7]:51820");
  EXPECT_TRUE(numeric->peers[0].endpoint_host.empty());
  // Parsed the same way twice: a reload sees no change.
  EXPECT_TRUE(c->peers[0] == parse_config(with("vpn.example.org:51820"), "test.yaml")->peers[0]);
  EXPECT_FALSE(c->peers[0] == parse_config(with("vpn.example.org:51821"), "test.yaml")->peers[0]);

  const std::string example = "expected a host name and port like vpn.example.org:51820, or a numeric address and port "
                              "like 198.51.100.7:51820 or [2001:db8::7]:51820, got ";
  expect_error(with("vpn_1.example.org:51820"), "test.yaml:9:15: peers[0].endpoint: ",
               example + "'vpn_1.example.org:51820' (not a host name: label 'vpn_1' has a character other than "
                         "letters, digits and '-')");
  expect_error(with("-vpn.example.org:51820"), "test.yaml:9:15: peers[0].endpoint: ", "label '-vpn' starts or ends with '-'");
  expect_error(with("vpn..example.org:51820"), "peers[0].endpoint", "empty label");
  expect_error(with("vpn.example.org.:51820"), "peers[0].endpoint", "empty label");
  expect_error(with(std::string(64, 'a') + ".org:51820"), "peers[0].endpoint", "longer than 63 characters");
  std::string long_name;
  for (int i = 0; i < 26; ++i) long_name += "abcdefghi.";
  expect_error(with(long_name + "org:51820"), "peers[0].endpoint", "263 characters, at most 253");
  expect_error(with("vpn.example.org:0"), "peers[0].endpoint", "'vpn.example.org:0' (the port must be 1 to 65535)");
  expect_error(with("vpn.example.org:65536"), "peers[0].endpoint", "(the port must be 1 to 65535)");
  expect_error(with("vpn.example.org"), "peers[0].endpoint", example + "'vpn.example.org' (no port)");
  // A mistyped address is not taken for a name, and gets the examples alone.
  expect_error(with("198.51.100.300:51820"), "peers[0].endpoint", example + "'198.51.100.300:51820'");
  auto typo = parse_config(with("198.51.100.300:51820"), "test.yaml");
  EXPECT_EQ(typo.message().find("not a host name"), std::string::npos) << typo.message();
}

TEST(Config, EndpointResolvers) {
  auto d = parse_config(valid_yaml(), "test.yaml");
  ASSERT_TRUE(d) << d.message();
  EXPECT_TRUE(d->dns.endpoint_resolvers.empty());  // the system's, read at start
  auto c = parse_config(valid_yaml() + "dns: {endpoint_resolvers: [192.0.2.53, \"2001:db8::53\"]}\n", "test.yaml");
  ASSERT_TRUE(c) << c.message();
  ASSERT_EQ(c->dns.endpoint_resolvers.size(), 2u);
  EXPECT_EQ(c->dns.endpoint_resolvers[0].to_string(), "192.0.2.53/32");
  EXPECT_EQ(c->dns.endpoint_resolvers[1].address(), "2001:db8::53");
  expect_error(valid_yaml() + "dns: {endpoint_resolvers: [192.0.2.0/24]}\n", "dns.endpoint_resolvers[0]",
               "expected the IP address of a name server outside the tunnel, like 192.0.2.53 or 2001:db8::53, got '192.0.2.0/24'");
  expect_error(valid_yaml() + "dns: {endpoint_resolvers: [ns.example.org]}\n", "dns.endpoint_resolvers[0]", "got 'ns.example.org'");
  expect_error(valid_yaml() + "dns: {endpoint_resolvers: 192.0.2.53}\n", "dns.endpoint_resolvers", "expected a list");
}

TEST(FieldKey, ExactlyThirtyTwoBytesOfHex) {
  EXPECT_TRUE(decode_field_key(std::string(64, 'e').c_str(), "ZEQ_FIELD_KEY"));
  auto longer = decode_field_key(std::string(66, 'e').c_str(), "ZEQ_FIELD_KEY");
  ASSERT_FALSE(longer);
  EXPECT_NE(longer.message().find("exactly 64 hex digits"), std::string::npos) << longer.message();
}

TEST(Config, RejectsDuplicatePeersAndPrefixes) {
  std::string y = valid_yaml();
  std::string second = "  - public_key: " + PEER_KEY + "\n    allowed_ips: [10.77.0.3/32]\n";
  expect_error(y + second, "peers[1]", "listed twice");
  std::string other_key = "  - public_key: WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=\n    allowed_ips: [10.77.0.2/32]\n";
  expect_error(y + other_key, "peers[1].allowed_ips", "already routed to peers[0]");
}

TEST(Config, RejectsTwoPeersWithOneName) {
  std::string y = valid_yaml();
  std::string same_name = "  - name: beta\n    public_key: WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=\n"
                          "    allowed_ips: [10.77.0.3/32]\n";
  expect_error(y + same_name, "test.yaml:12:", "peers[1].name: 'beta' is also the name of peers[0]; give each peer its own name");
  // A name that is another peer's ZID: `down NAME` would mean two peers.
  std::string zid_name = "  - name: zeq-aaa8fff703b5\n    public_key: WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=\n"
                         "    allowed_ips: [10.77.0.3/32]\n";
  expect_error(y + zid_name, "peers[1].name", "'zeq-aaa8fff703b5' is the ZID of peers[0]");
  std::string same_key = "  - name: gamma\n    public_key: " + PEER_KEY + "\n    zid: zeq-000000000001\n"
                         "    allowed_ips: [10.77.0.3/32]\n";
  expect_error(y + same_key, "peers[1].public_key", "this key is listed twice (also peers[0])");
}

TEST(Config, RejectsKeysGivenTwiceInAnyMapping) {
  std::string y = valid_yaml();
  expect_error(y + "log_level: info\nlog_level: debug\n", "test.yaml:13:1: log_level",
               "given twice (first on line 12); give each key once");
  // The second `interface:` would be ignored whole.
  expect_error("interface: {addresses: [10.77.0.1/24]}\n" + y, "test.yaml:2:1: interface", "given twice (first on line 1)");
  std::string mtu_twice = std::string(y).insert(y.find("  listen_port"), "  mtu: 1400\n  mtu: 1300\n");
  expect_error(mtu_twice, "test.yaml:5:3: interface.mtu", "given twice (first on line 4)");
  expect_error(y + "    name: gamma\n", "peers[0].name", "given twice (first on line 7)");
  expect_error(y + "    billing: {unit: gb, unit: zeqond}\n", "peers[0].billing.unit", "given twice");
  // A mapping reused through an alias is one mapping, not a key given twice.
  auto aliased = parse_config(y + "    billing: &terms {unit: gb, price: 3}\n"
                                  "  - name: gamma\n    public_key: WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=\n"
                                  "    allowed_ips: [10.77.0.3/32]\n    billing: *terms\n",
                              "test.yaml");
  EXPECT_TRUE(aliased) << aliased.message();
}

TEST(Config, InterfaceAddressesNeedAPrefixLength) {
  std::string y = valid_yaml();
  expect_error(std::string(y).replace(y.find("10.77.0.1/24"), 12, "10.1.2.3"), "test.yaml:3:",
               "interface.addresses[0]: '10.1.2.3' has no prefix length; write the address with its subnet's length, like 10.1.2.3/24");
  expect_error(std::string(y).replace(y.find("[10.77.0.1/24, fd77::1/64]"), 26, "fd77::1"),
               "interface.addresses", "like fd77::1/64");
  // allowed_ips: a bare address is one host, as in wg-quick.
  auto bare = parse_config(std::string(y).replace(y.find("10.77.0.2/32"), 12, "10.77.0.2"), "test.yaml");
  ASSERT_TRUE(bare) << bare.message();
  EXPECT_EQ(bare->peers[0].allowed_ips[0].to_string(), "10.77.0.2/32");
}

TEST(Config, RefusesTheNodesOwnKeyAsAPeer) {
  auto c = parse_config(valid_yaml(), "test.yaml");
  ASSERT_TRUE(c) << c.message();
  auto own = decode_key(PEER_KEY);
  ASSERT_TRUE(own);
  Status s = refuse_own_key_as_peer(*c, *own);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "test.yaml: peers[0] (beta): public_key is this node's own (zeq-aaa8fff703b5); remove that peer "
                         "from this node's file, a node does not peer with itself");
  auto other = decode_key("WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=");
  EXPECT_TRUE(refuse_own_key_as_peer(*c, *other));
}

TEST(MeshSecret, ValidatesLengthAndHexWithoutEchoingValue) {
  std::string good(64, 'a');
  auto s = decode_mesh_secret(good.c_str(), "ZEQ_MESH_SECRET");
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(s->size(), 32u);
  EXPECT_EQ(s->span()[0], 0xaa);

  std::string short_secret(62, 'b');
  auto bad = decode_mesh_secret(short_secret.c_str(), "ZEQ_MESH_SECRET");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("at least 64 hex digits"), std::string::npos);
  EXPECT_EQ(bad.message().find(short_secret), std::string::npos);

  std::string nonhex = std::string(63, 'c') + "g";
  auto bad2 = decode_mesh_secret(nonhex.c_str(), "ZEQ_MESH_SECRET");
  ASSERT_FALSE(bad2);
  EXPECT_NE(bad2.message().find("hex digits"), std::string::npos);
}

TEST(NetAddress, PrefixesAndEndpoints) {
  auto p = parse_ip_prefix("10.1.2.3/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->network().to_string(), "10.1.2.0/24");
  uint8_t in[4] = {10, 1, 2, 200}, out[4] = {10, 1, 3, 1};
  EXPECT_TRUE(p->contains(4, in));
  EXPECT_FALSE(p->contains(4, out));
  EXPECT_FALSE(p->contains(6, in));
  EXPECT_EQ(parse_ip_prefix("fd77::5")->length, 128);
  EXPECT_FALSE(parse_ip_prefix("10.0.0.0/33"));
  EXPECT_FALSE(parse_ip_prefix("10.0.0.0/"));
  EXPECT_FALSE(parse_ip_prefix("nope"));
  EXPECT_EQ(parse_udp_endpoint("[2001:db8::7]:51820")->to_string(), "[2001:db8::7]:51820");
  EXPECT_FALSE(parse_udp_endpoint("2001:db8::7:51820"));
  EXPECT_FALSE(parse_udp_endpoint("1.2.3.4:0"));
  EXPECT_FALSE(parse_udp_endpoint("1.2.3.4"));
}

TEST(NetAddress, HostNames) {
  EXPECT_EQ(host_name_problem("vpn.example.org"), "");
  EXPECT_EQ(host_name_problem("a"), "");
  EXPECT_EQ(host_name_problem("3com.example"), "");  // RFC 1123 allows a leading digit
  EXPECT_EQ(host_name_problem(std::string(63, 'a') + ".org"), "");
  EXPECT_NE(host_name_problem(std::string(64, 'a') + ".org"), "");
  EXPECT_NE(host_name_problem(""), "");
  EXPECT_NE(host_name_problem("a-.org"), "");
  EXPECT_NE(host_name_problem("a b.org"), "");
  EXPECT_NE(host_name_problem("10.0.0.1"), "");  // an address, not a name
  std::string at_limit;
  while (at_limit.size() < 250) at_limit += "abcdefghi.";
  at_limit = at_limit.substr(0, 249) + "xyz";  // 252 characters, no empty label
  ASSERT_EQ(at_limit.size(), 252u);
  EXPECT_EQ(host_name_problem(at_limit), "") << at_limit;
  EXPECT_EQ(host_name_problem(at_limit + "z"), "");  // 253
  EXPECT_NE(host_name_problem(at_limit + "zz"), "");  // 254
  auto h = parse_host_endpoint("vpn.example.org:51820");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->host, "vpn.example.org");
  EXPECT_EQ(h->port, 51820);
  EXPECT_EQ(h->to_string(), "vpn.example.org:51820");
  EXPECT_FALSE(parse_host_endpoint("198.51.100.7:51820"));  // parse_udp_endpoint's
  EXPECT_FALSE(parse_host_endpoint("[2001:db8::7]:51820"));
  EXPECT_FALSE(parse_host_endpoint("vpn.example.org:"));
  EXPECT_FALSE(parse_host_endpoint("vpn.example.org:+1"));
  EXPECT_FALSE(parse_host_endpoint(":51820"));
}

// The exit role and using an exit: what parses, the defaults, and every
// refusal naming the field, the value and the fix.
TEST(Config, ExitRoleAndExitNode) {
  const std::string y = valid_yaml();
  auto plain = parse_config(y, "test.yaml");
  ASSERT_TRUE(plain) << plain.message();
  EXPECT_FALSE(plain->exit.enabled);
  EXPECT_TRUE(plain->exit_client.block_ipv6_leaks);  // on by default
  EXPECT_FALSE(exit_peer_index(*plain));
  EXPECT_EQ(exit_route_table(*plain), 0x5a51u);  // the fwmark's value

  auto exit = parse_config(y + "exit: {enabled: true, out_interface: eth1, allowed_peers: [beta], ipv6: false}\n", "test.yaml");
  ASSERT_TRUE(exit) << exit.message();
  EXPECT_TRUE(exit->exit.enabled);
  EXPECT_EQ(exit->exit.out_interface, "eth1");
  EXPECT_EQ(exit->exit.allowed_peers, std::vector<std::string>{"beta"});
  EXPECT_FALSE(exit->exit.ipv6);

  auto client = parse_config(y + "exit_node: beta\nblock_ipv6_leaks: false\nroute_table: 51820\n", "test.yaml");
  ASSERT_TRUE(client) << client.message();
  EXPECT_EQ(exit_peer_index(*client), 0u);
  EXPECT_FALSE(client->exit_client.block_ipv6_leaks);
  EXPECT_EQ(exit_route_table(*client), 51820u);
  // By ZID too.
  EXPECT_TRUE(parse_config(y + "exit_node: zeq-aaa8fff703b5\n", "test.yaml"));

  // wg-quick style: a peer holding the default route is the exit.
  std::string wg = std::string(y).replace(y.find("[10.77.0.2/32, fd77::2/128]"), 27, "[10.77.0.2/32, 0.0.0.0/0]");
  auto implied = parse_config(wg, "test.yaml");
  ASSERT_TRUE(implied) << implied.message();
  EXPECT_EQ(exit_peer_index(*implied), 0u);

  expect_error(y + "exit: {enabled: true}\n", "exit.out_interface", "missing; name the interface");
  expect_error(y + "exit: {enabled: true, out_interface: eth1, allowed_peers: [gamma]}\n", "exit.allowed_peers[0]",
               "'gamma' is not a peer in this file; name a peer (name or ZID): beta");
  expect_error(y + "exit: {enabled: true, out_interface: 'eth 1'}\n", "exit.out_interface", "1 to 15 characters");
  expect_error(y + "exit: {enable: true}\n", "exit.enable", "unknown key");
  expect_error(y + "exit_node: gamma\n", "test.yaml:12:", "exit_node: 'gamma' is not a peer in this file");
  expect_error(y + "route_table: 254\n", "route_table", "the kernel's own");
  expect_error(y + "route_table: 0\n", "route_table", "expected an integer from 1");
  expect_error(y + "block_ipv6_leaks: sometimes\n", "block_ipv6_leaks", "expected true or false");
  expect_error(y + "exit_node: beta\nexit: {enabled: true, out_interface: eth1}\n", "exit_node",
               "a node is an exit or uses one");
  const std::string second_peer =
      "  - name: gamma\n"
      "    public_key: " + encode_key(x25519_generate().public_key) + "\n"
      "    allowed_ips: [10.77.0.3/32, ::/0]\n";
  expect_error(wg + second_peer, "peers[1].allowed_ips", "one exit at a time");
  expect_error(y + second_peer + "exit_node: beta\n", "exit_node", "holds the default route in its allowed_ips");
}

}  // namespace zeq

namespace zeq {

// mesh: one file or a list for ca and revocations, absolute paths only, and
// revocation lists only with a CA to check them against.
TEST(Config, MeshCertificates) {
  auto d = parse_config(valid_yaml(), "test.yaml");
  ASSERT_TRUE(d) << d.message();
  EXPECT_TRUE(d->mesh.ca.empty());
  EXPECT_TRUE(d->peers[0].send_certificate);
  auto c = parse_config(valid_yaml() + "    send_certificate: false\n"
                                       "mesh:\n  ca: /etc/zeqvpn/ca.pub\n  certificate: /etc/zeqvpn/node.crt\n"
                                       "  revocations: [/etc/zeqvpn/a.crl, /etc/zeqvpn/b.crl]\n",
                        "test.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_FALSE(c->peers[0].send_certificate);
  EXPECT_EQ(c->mesh.ca, std::vector<std::string>{"/etc/zeqvpn/ca.pub"});
  EXPECT_EQ(c->mesh.certificate, "/etc/zeqvpn/node.crt");
  EXPECT_EQ(c->mesh.revocations.size(), 2u);
  expect_error(valid_yaml() + "mesh:\n  revocations: [/etc/zeqvpn/a.crl]\n", "mesh.revocations", "need mesh.ca");
  expect_error(valid_yaml() + "mesh:\n  ca: [relative/ca.pub]\n", "mesh.ca[0]", "relative/ca.pub");
  expect_error(valid_yaml() + "mesh:\n  ca: {a: b}\n", "mesh.ca", "expected a file path or a list");
  expect_error(valid_yaml() + "mesh:\n  cas: [/x]\n", "mesh", "cas");
}

// directory: the backend and its settings; it needs mesh.ca, etcd needs its
// endpoints; each bad value is one error naming the field.
TEST(Config, Directory) {
  const std::string mesh = "mesh:\n  ca: /etc/zeqvpn/ca.pub\n";
  auto d = parse_config(valid_yaml() + mesh, "test.yaml");
  ASSERT_TRUE(d) << d.message();
  EXPECT_EQ(d->directory.backend, DirectoryBackend::kEmbedded);
  EXPECT_EQ(d->directory.idle_timeout_z, 386u);
  EXPECT_EQ(d->directory.max_records, 10'000u);
  auto c = parse_config(valid_yaml() + mesh +
                            "directory:\n  idle_timeout: 0\n  max_records: 20000\n"
                            "  advertise: [\"198.51.100.7:51820\", \"[2001:db8::1]:51820\"]\n",
                        "test.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->directory.idle_timeout_z, 0u);
  EXPECT_EQ(c->directory.max_records, 20'000u);
  ASSERT_EQ(c->directory.advertise.size(), 2u);
  EXPECT_EQ(c->directory.advertise[1].to_string(), "[2001:db8::1]:51820");
  auto e = parse_config(valid_yaml() + mesh +
                            "directory:\n  backend: etcd\n  endpoints: [https://10.0.0.1:2379, http://10.0.0.2:2379]\n"
                            "  prefix: /zeqvpn/prod\n  username: node\n  ca_file: /etc/zeqvpn/etcd-ca.pem\n  lease_ttl: 15\n",
                        "test.yaml");
  ASSERT_TRUE(e) << e.message();
  EXPECT_EQ(e->directory.backend, DirectoryBackend::kEtcd);
  EXPECT_EQ(e->directory.endpoints.size(), 2u);
  EXPECT_EQ(e->directory.prefix, "/zeqvpn/prod");
  EXPECT_EQ(e->directory.lease_ttl_s, 15);
  auto off = parse_config(valid_yaml() + "directory: {backend: off}\n", "test.yaml");
  ASSERT_TRUE(off) << off.message();
  expect_error(valid_yaml() + "directory: {backend: embedded}\n", "directory", "needs mesh.ca");
  expect_error(valid_yaml() + mesh + "directory: {backend: consul}\n", "directory.backend", "embedded, etcd or off");
  expect_error(valid_yaml() + mesh + "directory: {backend: etcd}\n", "directory.endpoints", "missing");
  expect_error(valid_yaml() + mesh + "directory: {backend: etcd, endpoints: [10.0.0.1:2379]}\n", "directory.endpoints[0]",
               "http://");
  expect_error(valid_yaml() + mesh + "directory: {advertise: [vpn.example.org:51820]}\n", "directory.advertise[0]",
               "IP address and port");
  expect_error(valid_yaml() + mesh + "directory: {prefix: zeqvpn/}\n", "directory.prefix", "starting with /");
  expect_error(valid_yaml() + mesh + "directory: {advertise: [\"0.0.0.0:51820\"]}\n", "directory.advertise[0]",
               "an address other nodes can send to");
  expect_error(valid_yaml() + mesh + "directory: {advertise: [\"198.51.100.7:51820\", \"[::ffff:198.51.100.7]:51820\"]}\n",
               "directory.advertise[1]", "listed twice");
  expect_error(valid_yaml() + mesh + "directory: {max_records: 0}\n", "directory.max_records", "");
  expect_error(valid_yaml() + mesh + "directory: {lease_ttl: 1}\n", "directory.lease_ttl", "");
  expect_error(valid_yaml() + mesh + "directory: {idle: 5}\n", "directory", "idle");
}

// interface.zid: an equation identity's ZID, checked for its form.
TEST(Config, InterfaceZid) {
  std::string yaml = valid_yaml();
  auto with = [&](const std::string& zid) {
    std::string y = yaml;
    y.insert(y.find("  identity_key_file"), "  zid: " + zid + "\n");
    return y;
  };
  auto c = parse_config(with("zeq-f9f5c58e8f0d"), "test.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->interface.zid, "zeq-f9f5c58e8f0d");
  EXPECT_TRUE(parse_config(yaml, "test.yaml")->interface.zid.empty());
  expect_error(with("zeq-F9F5"), "interface.zid", "zeqauth zid");
}

}  // namespace zeq
