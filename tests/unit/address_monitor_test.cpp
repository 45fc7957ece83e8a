// The roaming trigger (tun/address_monitor.hpp) against the kernel, in a
// network namespace of the test's own: which rtnetlink events reach
// drain(), and which of them underlay_changed() counts as a move (an
// address, a default route in any table, one removed and put back) and
// which it does not (a route to another prefix, a deprecated address, an
// interface with only a link-local address, the tunnel's own interface).
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "private_network.hpp"
#include "tun/address_monitor.hpp"

namespace zeq {
namespace {

class AddressMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!net_.ok()) GTEST_SKIP() << "no network namespace of the test's own: " << net_.why();
    // veth pairs (this kernel may have no dummy driver); the far ends stay
    // down, so they have no addresses at all.
    ASSERT_TRUE(ip("link add under0 type veth peer name under0p"));
    ASSERT_TRUE(ip("link add tun0 type veth peer name tun0p"));  // stands in for the tunnel's interface
    ASSERT_TRUE(ip("link set under0 up"));
    ASSERT_TRUE(ip("link set tun0 up"));
    ASSERT_TRUE(ip("addr add 192.0.2.10/24 dev under0"));
    tun_ifindex_ = int(if_nametoindex("tun0"));
    ASSERT_GT(tun_ifindex_, 0);
    auto m = AddressMonitor::open(tun_ifindex_);
    ASSERT_TRUE(m.is_ok()) << m.message();
    monitor_ = std::move(m.value());
  }

  bool ip(const std::string& args) {
    std::string out;
    const bool ok = net_.ip(args, &out);
    if (!ok) ADD_FAILURE() << "ip " << args << ": " << out;
    return ok;
  }

  // Drains for up to 300 ms (events arrive at once; the bound is for a
  // loaded machine): true when an event about another interface came.
  bool heard_event() {
    bool heard = false;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{monitor_->fd(), POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) heard = monitor_->drain() || heard;
    }
    return heard;
  }

  test::PrivateNetwork net_;
  int tun_ifindex_ = 0;
  std::unique_ptr<AddressMonitor> monitor_;
};

TEST_F(AddressMonitorTest, NewAndRemovedAddressesAreMoves) {
  ASSERT_TRUE(ip("addr add 198.51.100.7/24 dev under0"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed());
  EXPECT_FALSE(monitor_->underlay_changed()) << "a second look with nothing new is no change";
  ASSERT_TRUE(ip("addr del 192.0.2.10/24 dev under0"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed());
  ASSERT_TRUE(ip("addr add 203.0.113.1 peer 203.0.113.2 dev under0"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed());
  ASSERT_TRUE(ip("addr del 203.0.113.1 peer 203.0.113.2 dev under0"));
  ASSERT_TRUE(ip("addr add 203.0.113.1 peer 203.0.113.3 dev under0"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed()) << "a point-to-point address with a new far end";
}

TEST_F(AddressMonitorTest, IPv6AddressesAndDeprecatedOnes) {
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) GTEST_SKIP() << "no IPv6 on this kernel";
  ASSERT_TRUE(ip("addr add 2001:db8::7/64 dev under0 nodad"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed());
  // A deprecated address (preferred lifetime over) is no source for new
  // connections: added as one, it changes nothing.
  ASSERT_TRUE(ip("addr add 2001:db8::8/64 dev under0 nodad preferred_lft 0"));
  EXPECT_TRUE(heard_event());
  EXPECT_FALSE(monitor_->underlay_changed());
}

TEST_F(AddressMonitorTest, AnAddressRemovedAndPutBackInOneBurstIsAMove) {
  // ip addr flush + add, or a lease rebound on another network with the
  // same numbers: the snapshots match, the NAT in front may not.
  ASSERT_TRUE(ip("addr del 192.0.2.10/24 dev under0"));
  ASSERT_TRUE(ip("addr add 192.0.2.10/24 dev under0"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed());
  EXPECT_FALSE(monitor_->underlay_changed());
}

TEST_F(AddressMonitorTest, DefaultRoutesAreMovesOtherRoutesAreNot) {
  ASSERT_TRUE(ip("route add 203.0.113.0/24 via 192.0.2.1 dev under0"));
  EXPECT_FALSE(heard_event()) << "a route to another prefix is no event worth a look";
  EXPECT_FALSE(monitor_->underlay_changed());
  ASSERT_TRUE(ip("route add default via 192.0.2.1 dev under0"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed());
  ASSERT_TRUE(ip("route replace default via 192.0.2.2 dev under0"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed()) << "a new gateway is a move";
  ASSERT_TRUE(ip("addr add 192.0.2.11/24 dev under0"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed());
  ASSERT_TRUE(ip("route replace default via 192.0.2.2 dev under0 src 192.0.2.11"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed()) << "a new preferred source is a move";
  // An uplink whose default route lives in a table of its own (source
  // routing, NetworkManager's route-table).
  ASSERT_TRUE(ip("route add default via 192.0.2.3 dev under0 table 100"));
  EXPECT_TRUE(heard_event());
  EXPECT_TRUE(monitor_->underlay_changed());
}

TEST_F(AddressMonitorTest, LinkLocalOnlyInterfaceIsNotAMove) {
  // A container's veth or a new bridge: up, with only an IPv6 link-local
  // address (tentative, then valid when DAD ends).
  ASSERT_TRUE(ip("link add veth9 type veth peer name veth9p"));
  ASSERT_TRUE(ip("link set veth9 up"));
  ASSERT_TRUE(ip("link set veth9p up"));
  ASSERT_TRUE(ip("addr add fe80::99/64 dev veth9"));
  EXPECT_TRUE(heard_event());
  EXPECT_FALSE(monitor_->underlay_changed());
}

TEST_F(AddressMonitorTest, TheTunnelsOwnInterfaceIsIgnored) {
  ASSERT_TRUE(ip("addr add 10.77.0.1/16 dev tun0"));
  ASSERT_TRUE(ip("route add 10.78.0.0/16 dev tun0"));
  EXPECT_FALSE(heard_event()) << "events about the tunnel's interface do not count";
  ASSERT_TRUE(ip("route add default dev tun0"));
  EXPECT_FALSE(heard_event());
  EXPECT_FALSE(monitor_->underlay_changed()) << "a default route into the tunnel is ours";
}

}  // namespace
}  // namespace zeq
