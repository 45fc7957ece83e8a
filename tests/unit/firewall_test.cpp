// Kill switch and DNS-leak rules: the rendered nftables transaction and pf
// anchor match golden files byte for byte (pf cannot run here, so the golden
// file is its test), and the arming rules of each mode.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "firewall/firewall_policy.hpp"
#include "firewall/kill_switch_state.hpp"

namespace zeq {
namespace {

std::string golden(const std::string& name) {
  std::ifstream in(std::string(ZEQ_TESTDATA_DIR) + "/firewall/" + name);
  EXPECT_TRUE(in) << "missing golden file " << name << " (regenerate with ZEQ_WRITE_GOLDEN=1)";
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void check(const std::string& name, const std::string& rendered) {
  if (std::getenv("ZEQ_WRITE_GOLDEN")) {
    std::ofstream(std::string(ZEQ_TESTDATA_DIR) + "/firewall/" + name) << rendered;
    return;
  }
  EXPECT_EQ(rendered, golden(name)) << name;
}

struct Case {
  const char* name;
  bool kill_switch, allow_lan, dns;
};
const Case kCases[] = {
    {"empty", false, false, false},
    {"killswitch", true, false, false},
    {"killswitch_lan", true, true, false},
    {"dns_only", false, false, true},
    {"killswitch_lan_dns", true, true, true},
};

TEST(FirewallRules, NftablesAndPfMatchGoldenFiles) {
  for (const auto& c : kCases) {
    FirewallPolicy p;
    p.tun_interface = "zeq0";
    p.fwmark = DEFAULT_FWMARK;
    p.listen_port = 51820;
    p.kill_switch = c.kill_switch;
    p.allow_lan = c.allow_lan;
    p.block_dns_leaks = c.dns;
    check(std::string(c.name) + ".nft", render_nftables(p));
    check(std::string(c.name) + ".pf", render_pf_anchor(p));
  }
}

TEST(FirewallRules, OnlyOurTableIsEverNamed) {
  FirewallPolicy p;
  p.kill_switch = p.allow_lan = p.block_dns_leaks = true;
  std::istringstream in(render_nftables(p));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("table") == std::string::npos) continue;
    EXPECT_NE(line.find("table inet zeqvpn"), std::string::npos) << line;
  }
}

TEST(KillSwitchState, ModesAndOperatorOverride) {
  KillSwitchState off(KillSwitchMode::kOff);
  EXPECT_FALSE(off.armed());
  off.set_tunnels_dropped(true);
  EXPECT_FALSE(off.armed());
  off.operator_arm();
  EXPECT_TRUE(off.armed());
  EXPECT_TRUE(off.stays_after_exit());
  EXPECT_EQ(off.reason(), "armed by operator");

  KillSwitchState on_drop(KillSwitchMode::kOnDrop);
  EXPECT_FALSE(on_drop.armed());
  on_drop.set_tunnels_dropped(true);
  EXPECT_TRUE(on_drop.armed());
  EXPECT_FALSE(on_drop.stays_after_exit());
  on_drop.set_tunnels_dropped(false);
  EXPECT_FALSE(on_drop.armed());

  KillSwitchState always(KillSwitchMode::kAlways);
  EXPECT_TRUE(always.armed());
  EXPECT_TRUE(always.stays_after_exit());
  always.operator_disarm();
  EXPECT_FALSE(always.armed());
  EXPECT_FALSE(always.stays_after_exit());
  EXPECT_EQ(always.reason(), "disarmed by operator");

  EXPECT_EQ(kill_switch_mode_from("on_drop"), KillSwitchMode::kOnDrop);
  EXPECT_FALSE(kill_switch_mode_from("sometimes"));
}

}  // namespace
}  // namespace zeq
