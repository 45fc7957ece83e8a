// Kill switch and DNS-leak rules: the rendered nftables transaction and pf
// anchor match golden files byte for byte (pf cannot run here, so the golden
// file is its test), and the arming rules of each mode; the MSS clamp's
// tables and their life in the daemon.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "firewall/boot_rules.hpp"
#include "firewall/exit_policy.hpp"
#include "firewall/firewall_backend.hpp"
#include "firewall/firewall_policy.hpp"
#include "firewall/kill_switch_state.hpp"
#include "firewall/mss_clamp.hpp"
#include "firewall/nftables_backend.hpp"
#include "private_network.hpp"

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
  bool kill_switch, allow_lan, dns, ipv6_block = false, exit_routing = false;
};
const Case kCases[] = {
    {"empty", false, false, false},
    {"killswitch", true, false, false},
    {"killswitch_lan", true, true, false},
    {"dns_only", false, false, true},
    {"killswitch_lan_dns", true, true, true},
    {"exit_routing", false, false, false, false, true},
    {"exit_ipv6_block", false, false, false, true, true},
    {"exit_ipv6_block_lan_killswitch_dns", true, true, true, true, true},
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
    p.block_ipv6_leaks = c.ipv6_block;
    p.exit_routing = c.exit_routing;
    check(std::string(c.name) + ".nft", render_nftables(p));
    check(std::string(c.name) + ".pf", render_pf_anchor(p));
  }
}

TEST(FirewallRules, OnlyOurTableIsEverNamed) {
  FirewallPolicy p;
  p.kill_switch = p.allow_lan = p.block_dns_leaks = p.block_ipv6_leaks = p.exit_routing = true;
  std::istringstream in(render_nftables(p));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("table") == std::string::npos) continue;
    EXPECT_TRUE(line.find("table inet zeqvpn") != std::string::npos || line.find("table arp zeqvpn") != std::string::npos)
        << line;
  }
}

// With exit routing, incoming ARP carries the daemon's mark, so strict
// reverse-path filtering does not stop this node answering its neighbours
// (the exit's underlay address among them); without it there is no arp table.
TEST(FirewallRules, ExitRoutingMarksIncomingArp) {
  FirewallPolicy p;
  p.fwmark = 0x1234;
  EXPECT_EQ(render_nftables(p).find("table arp zeqvpn {"), std::string::npos);
  p.exit_routing = true;
  const std::string nft = render_nftables(p);
  const size_t table = nft.find("table arp zeqvpn {");
  ASSERT_NE(table, std::string::npos) << nft;
  EXPECT_NE(nft.find("type filter hook input priority filter; policy accept;\n\t\tmeta mark set 0x00001234\n", table),
            std::string::npos)
      << nft;
}

// The daemon resolves peers' endpoint host names itself, outside the
// tunnel, from sockets with its mark: the DNS-leak block lets those out
// (before its drop), with or without the kill switch.
TEST(FirewallRules, DnsLeakBlockLetsTheDaemonsMarkedQueriesOut) {
  for (bool kill_switch : {false, true}) {
    FirewallPolicy p;
    p.block_dns_leaks = true;
    p.kill_switch = kill_switch;
    p.fwmark = 0x1234;
    const std::string nft = render_nftables(p);
    const size_t chain = nft.find("chain dns_leak {");
    ASSERT_NE(chain, std::string::npos) << nft;
    const size_t end = nft.find("\t}\n", chain);
    const size_t mark = nft.find("\t\tmeta mark 0x00001234 accept\n", chain);
    const size_t drop = nft.find("counter name blocked_dns drop", chain);
    ASSERT_NE(mark, std::string::npos) << nft;
    EXPECT_LT(mark, drop) << nft;
    EXPECT_LT(drop, end) << nft;
  }
}

ExitPolicy exit_policy(bool v4, bool v6) {
  ExitPolicy p;
  p.tun_interface = "zeq0";
  p.out_interface = "eth0";
  if (v4) p.sources_v4 = {*parse_ip_prefix("10.77.0.2/32"), *parse_ip_prefix("10.77.0.16/28")};
  if (v6) p.sources_v6 = {*parse_ip_prefix("fd77::2/128")};
  return p;
}

TEST(ExitRules, NftablesMatchGoldenFiles) {
  check("exit_v4_v6.nft", render_exit_nftables(exit_policy(true, true)));
  check("exit_v4.nft", render_exit_nftables(exit_policy(true, false)));
  // Nobody allowed: the table stays and refuses everyone.
  EXPECT_FALSE(exit_policy(false, false).empty());
  check("exit_nobody.nft", render_exit_nftables(exit_policy(false, false)));
  // No exit role: the table goes.
  EXPECT_TRUE(ExitPolicy{}.empty());
  check("exit_off.nft", render_exit_nftables(ExitPolicy{}));
}

TEST(ExitRules, OnlyTheExitTableIsEverNamed) {
  std::istringstream in(render_exit_nftables(exit_policy(true, true)));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("table") == std::string::npos) continue;
    EXPECT_NE(line.find("table inet zeqvpn_exit"), std::string::npos) << line;
  }
}

// The boot-time kill switch (zeqvpn-killswitch.service loads it with nft -f):
// comment lines, then exactly the transaction the daemon applies, which
// replaces our table in one go and names no other table.
TEST(BootRules, TheDaemonsTransactionUnderAHeader) {
  FirewallPolicy p;
  p.kill_switch = true;
  p.allow_lan = true;
  const std::string text = render_boot_nftables(p);
  const std::string rules = render_nftables(p);
  ASSERT_GE(text.size(), rules.size());
  EXPECT_EQ(text.substr(text.size() - rules.size()), rules);
  std::istringstream header(text.substr(0, text.size() - rules.size()));
  std::string line;
  int lines = 0;
  while (std::getline(header, line)) {
    EXPECT_EQ(line.rfind("# ", 0), 0u) << line;
    ++lines;
  }
  EXPECT_GE(lines, 1);
  // One transaction: the add/delete pair first (safe with or without a
  // table), the new table in the same buffer; nothing flushes the ruleset.
  EXPECT_EQ(rules.rfind("add table inet zeqvpn\ndelete table inet zeqvpn\n", 0), 0u);
  EXPECT_NE(rules.find("type filter hook output priority filter; policy drop;"), std::string::npos);
  EXPECT_EQ(text.find("flush"), std::string::npos);
}

TEST(BootRules, BesideTheStateDatabase) {
  EXPECT_EQ(kill_switch_boot_path("/var/lib/zeqvpn/state.db"), "/var/lib/zeqvpn/killswitch.nft");
  EXPECT_EQ(kill_switch_boot_path("/var/lib/zeqvpn/office/state.db"), "/var/lib/zeqvpn/office/killswitch.nft");
  EXPECT_EQ(kill_switch_boot_path("state.db"), "./killswitch.nft");
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

// The MSS clamp's table (inet zeqvpn_mss): SYNs into the TUN clamped to
// the route's MSS, SYNs out of it to the tunnel MTU's, per family.
TEST(MssClampRules, NftablesMatchGoldenFiles) {
  check("mss_clamp.nft", render_mss_clamp_nftables({"zeq0", 1416}));
  EXPECT_TRUE(MssClampPolicy{}.empty());
  check("mss_clamp_off.nft", render_mss_clamp_nftables({}));
}

TEST(MssClampRules, MssPerFamilyFollowsTheMtu) {
  const std::string nft = render_mss_clamp_nftables({"wg7", 1280});
  ASSERT_NE(nft.find("table inet zeqvpn_mss {"), std::string::npos) << nft;
  const std::string in = "iifname \"wg7\" meta nfproto ipv";
  EXPECT_NE(nft.find(in + "4 tcp flags syn / syn,rst tcp option maxseg size set 1240\n"), std::string::npos)
      << nft;  // 1280 - 20 - 20
  EXPECT_NE(nft.find(in + "6 tcp flags syn / syn,rst tcp option maxseg size set 1220\n"), std::string::npos)
      << nft;  // 1280 - 40 - 20
  EXPECT_NE(nft.find("oifname \"wg7\" tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n"), std::string::npos)
      << nft;
  EXPECT_NE(nft.find("type filter hook forward priority mangle; policy accept;"), std::string::npos) << nft;
}

// The clamp and the kill switch never name each other's tables, so neither
// replaces nor deletes the other (they coexist in one ruleset, with the
// exit's table too). The clamp also deletes the ip and ip6 zeqvpn tables
// earlier builds kept it in, and nothing else.
TEST(MssClampRules, TablesApartFromTheKillSwitchAndExit) {
  for (const MssClampPolicy& policy : {MssClampPolicy{"zeq0", 1416}, MssClampPolicy{}}) {
    std::istringstream in(render_mss_clamp_nftables(policy));
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("table") == std::string::npos) continue;
      EXPECT_TRUE(line.find("table inet zeqvpn_mss") != std::string::npos || line == "add table ip zeqvpn" ||
                  line == "delete table ip zeqvpn" || line == "add table ip6 zeqvpn" || line == "delete table ip6 zeqvpn")
          << line;
    }
  }
  FirewallPolicy all;
  all.kill_switch = all.allow_lan = all.block_dns_leaks = all.block_ipv6_leaks = all.exit_routing = true;
  for (const std::string& other : {render_nftables(all), render_nftables(FirewallPolicy{}),
                                   render_exit_nftables(exit_policy(true, true))}) {
    EXPECT_EQ(other.find("zeqvpn_mss"), std::string::npos) << other;
    EXPECT_EQ(other.find("table ip zeqvpn"), std::string::npos) << other;
    EXPECT_EQ(other.find("table ip6 zeqvpn"), std::string::npos) << other;
  }
}

// What the daemon's MssClamp asks of the backend.
class RecordingBackend final : public FirewallBackend {
 public:
  std::vector<MssClampPolicy>* applied;
  bool fail = false;
  explicit RecordingBackend(std::vector<MssClampPolicy>* log) : applied(log) {}
  Status apply(const FirewallPolicy&) override { return Status::ok(); }
  Result<bool> installed() override { return false; }
  std::map<std::string, uint64_t> blocked_counts() override { return {}; }
  Status apply_exit(const ExitPolicy&) override { return Status::ok(); }
  std::map<std::string, uint64_t> exit_counts() override { return {}; }
  Status apply_mss_clamp(const MssClampPolicy& p) override {
    applied->push_back(p);
    return fail ? Status::error("nftables (table inet zeqvpn_mss): Operation not supported") : Status::ok();
  }
};

TEST(MssClamp, InstalledOnceRemovedOnceAlsoWhenDestroyed) {
  std::vector<MssClampPolicy> log;
  {
    MssClamp clamp(std::make_unique<RecordingBackend>(&log));
    EXPECT_TRUE(clamp.install({"zeq0", 1416}));
    EXPECT_TRUE(clamp.installed());
    clamp.remove();
    clamp.remove();  // the daemon's teardown, then its destructor
    EXPECT_FALSE(clamp.installed());
  }
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], (MssClampPolicy{"zeq0", 1416}));
  EXPECT_TRUE(log[1].empty());

  log.clear();
  {
    MssClamp clamp(std::make_unique<RecordingBackend>(&log));
    clamp.install({"zeq0", 1380});
  }  // a start that failed later: the destructor removes it
  ASSERT_EQ(log.size(), 2u);
  EXPECT_TRUE(log[1].empty());
}

TEST(MssClamp, AFailedInstallIsNoErrorAndLeavesNothingToRemove) {
  std::vector<MssClampPolicy> log;
  {
    auto backend = std::make_unique<RecordingBackend>(&log);
    backend->fail = true;
    MssClamp clamp(std::move(backend));
    EXPECT_FALSE(clamp.install({"zeq0", 1416}));
    EXPECT_FALSE(clamp.installed());
  }
  EXPECT_EQ(log.size(), 1u);  // no removal attempted
}

}  // namespace
}  // namespace zeq

// The shared libnftables context on a real kernel, in a network namespace
// of the test's own: freed only once idle, made again by the next command,
// which then sees what the earlier context installed.
namespace zeq {
TEST(NftablesContext, FreedWhenIdleAndMadeAgainByTheNextCommand) {
  test::PrivateNetwork net;
  if (!net.ok()) GTEST_SKIP() << "no network namespace of the test's own: " << net.why();
  if (test::run_command("command -v nft") != 0) GTEST_SKIP() << "no nft command to read the ruleset back with";
  auto backend = NftablesBackend::open();
  ASSERT_TRUE(backend) << backend.message();
  Status s = (*backend)->apply_mss_clamp({"zeqtest0", 1400});
  if (!s && s.message().find("Operation not permitted") != std::string::npos) GTEST_SKIP() << s.message();
  ASSERT_TRUE(s) << s.message();
  // Just used: kept.
  EXPECT_FALSE(NftablesBackend::release_idle_context(std::chrono::hours(1)));
  EXPECT_TRUE(NftablesBackend::release_idle_context(std::chrono::milliseconds(0)));
  EXPECT_FALSE(NftablesBackend::release_idle_context(std::chrono::milliseconds(0))) << "nothing left to free";
  // A fresh context reads back the tables the freed one made, and replaces them.
  std::string out;
  ASSERT_EQ(test::run_command("nft list tables", &out), 0) << out;
  EXPECT_NE(out.find("table inet zeqvpn_mss"), std::string::npos) << out;
  ASSERT_TRUE((*backend)->apply_mss_clamp({"zeqtest0", 1300}));
  ASSERT_EQ(test::run_command("nft list table inet zeqvpn_mss", &out), 0) << out;
  EXPECT_NE(out.find("1260"), std::string::npos) << out;  // MSS for MTU 1300: 1300 - 40
  ASSERT_TRUE((*backend)->apply_mss_clamp({}));
  ASSERT_EQ(test::run_command("nft list tables", &out), 0) << out;
  EXPECT_EQ(out.find("zeqvpn"), std::string::npos) << out;
  EXPECT_TRUE(NftablesBackend::release_idle_context(std::chrono::milliseconds(0)));
}
}  // namespace zeq
