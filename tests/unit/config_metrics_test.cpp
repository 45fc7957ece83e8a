// The metrics endpoint's YAML (issue 15): `metrics: {listen: ADDRESS:PORT}`,
// off by default; every bad value is refused with one line naming the file,
// line, column and field, what was found and what is expected.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace zeq {

namespace {
const std::string PEER_KEY = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=";

// A node with one peer (lines 1-6); the metrics section goes on line 7.
std::string node_yaml() {
  return "interface:\n"
         "  addresses: [10.77.0.1/24]\n"
         "peers:\n"
         "  - name: beta\n"
         "    public_key: " + PEER_KEY + "\n"
         "    allowed_ips: [10.77.0.2/32]\n";
}

Config parsed(const std::string& yaml) {
  auto c = parse_config(yaml, "test.yaml");
  EXPECT_TRUE(c) << c.message() << "\n" << yaml;
  return c ? *c : Config{};
}

// The whole error line, so each case shows its one message exactly.
std::string error_of(const std::string& yaml) {
  auto c = parse_config(yaml, "test.yaml");
  EXPECT_FALSE(c) << "accepted:\n" << yaml;
  EXPECT_EQ(c ? std::string::npos : c.message().find('\n'), std::string::npos) << "more than one line";
  return c ? "" : c.message();
}

std::string listen(const std::string& value) { return node_yaml() + "metrics:\n  listen: " + value + "\n"; }

const std::string EXPECTED = "expected a numeric address and TCP port like 127.0.0.1:9586 or [::1]:9586 (or off), got ";
}  // namespace

TEST(ConfigMetrics, OffByDefault) {
  EXPECT_FALSE(parsed(node_yaml()).metrics.listen);
  EXPECT_FALSE(parsed(listen("off")).metrics.listen);
  EXPECT_EQ(parsed(node_yaml()).metrics, MetricsConfig{});
}

TEST(ConfigMetrics, IPv4AndIPv6Addresses) {
  Config c = parsed(listen("127.0.0.1:9586"));
  ASSERT_TRUE(c.metrics.listen);
  EXPECT_EQ(c.metrics.listen->to_string(), "127.0.0.1:9586");
  EXPECT_EQ(parsed(listen("\"[::1]:9586\"")).metrics.listen->to_string(), "[::1]:9586");
  EXPECT_EQ(parsed(listen("0.0.0.0:9100")).metrics.listen->to_string(), "0.0.0.0:9100");
  EXPECT_EQ(parsed(listen("\"[::]:65535\"")).metrics.listen->to_string(), "[::]:65535");
  EXPECT_EQ(parsed(listen("10.77.0.1:1")).metrics.listen->to_string(), "10.77.0.1:1");
  // Flow style, and on a relay too.
  EXPECT_EQ(parsed(node_yaml() + "metrics: {listen: 127.0.0.1:9587}\n").metrics.listen->to_string(), "127.0.0.1:9587");
  EXPECT_TRUE(parsed("role: relay\npeers:\n  - public_key: " + PEER_KEY + "\nmetrics: {listen: '[::1]:9587'}\n").metrics.listen);
  // Compared by value, as a reload compares it.
  EXPECT_EQ(parsed(listen("127.0.0.1:9586")).metrics, parsed(listen("127.0.0.1:9586")).metrics);
  EXPECT_NE(parsed(listen("127.0.0.1:9586")).metrics, parsed(listen("127.0.0.1:9587")).metrics);
}

TEST(ConfigMetrics, BadAddressesOneLineEach) {
  auto refused = [](const std::string& value, const std::string& shown, const std::string& why) {
    EXPECT_EQ(error_of(listen(value)), "test.yaml:8:11: metrics.listen: " + EXPECTED + "'" + shown + "'" + why);
  };
  refused("127.0.0.1", "127.0.0.1", " (no port)");
  refused("\"\"", "", " (no port)");
  refused("127.0.0.1:0", "127.0.0.1:0", " (the port must be 1 to 65535)");
  refused("127.0.0.1:65536", "127.0.0.1:65536", " (the port must be 1 to 65535)");
  refused("127.0.0.1:1234567", "127.0.0.1:1234567", " (the port must be 1 to 65535)");
  refused("127.0.0.1:http", "127.0.0.1:http", " (the port must be a number from 1 to 65535)");
  refused("\"[::1]:\"", "[::1]:", " (the port must be a number from 1 to 65535)");
  refused("localhost:9586", "localhost:9586", " (a host name; write the address itself, like 127.0.0.1 or [::1])");
  refused("127.0.0.300:9586", "127.0.0.300:9586", " (not an IP address)");
  refused("127.0.0.1/8:9586", "127.0.0.1/8:9586", " (not an IP address)");
  refused("\"::1:9586\"", "::1:9586", " (an IPv6 address goes in brackets, with its port after them, like [::1]:9586)");
  refused("\"::1\"", "::1", " (an IPv6 address goes in brackets, with its port after them, like [::1]:9586)");
  refused("\"[::1]\"", "[::1]", " (no port after the brackets)");
  refused("\"[fe80::1%eth0]:9586\"", "[fe80::1%eth0]:9586", " (not an IP address)");
  refused("http://127.0.0.1:9586/metrics", "http://127.0.0.1:9586/metrics", " (an address and port, not a URL)");
  refused("\"1:2:3\"", "1:2:3", "");
}

TEST(ConfigMetrics, BadShapesOneLineEach) {
  EXPECT_EQ(error_of(listen("[127.0.0.1:9586]")), "test.yaml:8:11: metrics.listen: expected a string, got a list");
  EXPECT_EQ(error_of(node_yaml() + "metrics: 127.0.0.1:9586\n"),
            "test.yaml:7:10: metrics: expected a mapping, got '127.0.0.1:9586'");
  // yaml-cpp places an empty value at the start of the next line.
  EXPECT_EQ(error_of(node_yaml() + "metrics:\n"), "test.yaml:8:1: metrics: expected a mapping, got nothing");
  EXPECT_EQ(error_of(node_yaml() + "metrics: {}\n"),
            "test.yaml:7:10: metrics.listen: missing; give the address and port to serve metrics on, like "
            "127.0.0.1:9586, or remove the metrics section");
  EXPECT_EQ(error_of(node_yaml() + "metrics: {listen: 127.0.0.1:9586, path: /m}\n"),
            "test.yaml:7:35: metrics.path: unknown key; expected one of: listen");
  EXPECT_EQ(error_of(node_yaml() + "metrics: {listen: 127.0.0.1:9586, listen: 127.0.0.1:9587}\n"),
            "test.yaml:7:35: metrics.listen: given twice (first on line 7); give each key once and delete or merge "
            "the other");
  EXPECT_EQ(error_of(node_yaml() + "metric: {listen: 127.0.0.1:9586}\n").substr(0, 37),
            "test.yaml:7:1: metric: unknown key; e");
}

}  // namespace zeq
