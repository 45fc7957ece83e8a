// The daemon's small parts: which settings a reload may change, the
// configuration as the mesh sees it, and the control commands' table.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "daemon/control_handler.hpp"
#include "daemon/mesh_settings.hpp"
#include "daemon/reload_check.hpp"

namespace zeq {
namespace {

const char* BASE = R"(interface:
  name: zeqt0
  addresses: [10.77.0.1/24]
  listen_port: 51900
peers:
  - name: beta
    public_key: B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=
    allowed_ips: [10.77.0.2/32]
    cover: constant
)";

Config parsed(const std::string& extra = "") {
  auto c = parse_config(BASE + extra, "/etc/zeqvpn/zeqvpn.yaml");
  EXPECT_TRUE(c) << c.message();
  return *c;
}

TEST(ReloadCheck, PeersKillSwitchAndDnsMayChange) {
  EXPECT_TRUE(check_reloadable(parsed(), parsed("kill_switch: always\ndns_via_peer: false\npadding: mtu\n")));
}

TEST(ReloadCheck, FixedSettingsAreRefusedByName) {
  Config running = parsed();
  const std::string base = BASE;
  struct Case {
    std::string yaml, field, change;
  } cases[] = {
      {std::string(base).replace(base.find("zeqt0"), 5, "zeqt1"), "interface.name", "(zeqt0 -> zeqt1)"},
      {std::string(base).replace(base.find("51900"), 5, "51901"), "interface.listen_port", "(51900 -> 51901)"},
      {base + "fwmark: 0x10\n", "fwmark", "(23121 -> 16)"},
      {base + "dns: {resolv_conf: /tmp/r.conf}\n", "dns.resolv_conf", "(/etc/resolv.conf -> /tmp/r.conf)"},
  };
  for (const auto& c : cases) {
    auto next = parse_config(c.yaml, "/etc/zeqvpn/zeqvpn.yaml");
    ASSERT_TRUE(next) << next.message();
    Status s = check_reloadable(running, *next);
    ASSERT_FALSE(s) << c.field;
    EXPECT_EQ(s.message(), "/etc/zeqvpn/zeqvpn.yaml: " + c.field + " cannot change while zeqvpnd runs " + c.change +
                               "; restart zeqvpnd to apply it, or put the old value back to reload the rest");
  }
}

TEST(MeshSettings, CarryTheTypedValues) {
  NodeSettings s = node_settings(parsed("padding: buckets\nfwmark: 0x10\ndns: {offer: 10.77.0.1}\n"));
  EXPECT_EQ(s.interface_name, "zeqt0");
  EXPECT_EQ(s.listen_port, 51900);
  EXPECT_EQ(s.fwmark, 16u);
  EXPECT_EQ(s.padding, PaddingPolicy::kBuckets);
  EXPECT_EQ(s.dns_offer, parse_ip_prefix("10.77.0.1"));
  ASSERT_EQ(s.peers.size(), 1u);
  EXPECT_EQ(s.peers[0].name, "beta");
  EXPECT_EQ(s.peers[0].cover, CoverMode::kConstant);
  EXPECT_FALSE(s.peers[0].padding);  // the node's
}

TEST(ControlCommands, TheTableListsEveryCommand) {
  std::vector<std::string> want = {"status", "peers", "tunnels", "up", "down", "rekey", "reload", "metrics",
                                   "killswitch", "cover", "exit", "directory", "relays",
                                   "mesh_invite", "mesh_invites", "mesh_revoke"};
  EXPECT_EQ(control_commands(), want);
}

}  // namespace
}  // namespace zeq
