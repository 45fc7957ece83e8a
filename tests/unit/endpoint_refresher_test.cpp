// Endpoint host names without a network: a SessionManager and an
// EndpointRefresher on a manual clock, with a resolver the test answers by
// hand. Resolution at start before the first handshake, backoff after a
// failure, one query per unanswered retry (never two at once), a changed
// answer taken by the next retry, roaming winning over a late answer, the
// previous address family preferred, and reloads (renamed, removed peers).
#include <gtest/gtest.h>

#include <deque>

#include "mesh/endpoint_refresher.hpp"
#include "mesh_test_node.hpp"

namespace zeq {
namespace {

using test::hex;

// Queries wait until the test answers them, as a real resolver's answers
// come later on the control thread.
class FakeResolver final : public HostResolver {
 public:
  struct Query {
    std::string host;
    uint16_t port;
    Done done;
  };
  void resolve(const std::string& host, uint16_t port, Done done) override {
    queries.push_back({host, port, std::move(done)});
  }
  std::string servers() const override { return "192.0.2.53"; }
  // Answers the oldest query.
  void answer(const std::vector<std::string>& addresses) {
    ASSERT_FALSE(queries.empty());
    Query q = std::move(queries.front());
    queries.pop_front();
    std::vector<UdpEndpoint> out;
    for (const auto& a : addresses) out.push_back(*parse_udp_endpoint(a));
    q.done(out);
  }
  void fail(const std::string& why) {
    ASSERT_FALSE(queries.empty());
    Query q = std::move(queries.front());
    queries.pop_front();
    q.done(Status::error(why));
  }
  std::deque<Query> queries;
};

class EndpointRefresherTest : public test::VectorIdentities {
 protected:
  void SetUp() override {
    test::VectorIdentities::SetUp();
    PeerSettings b = test::peer_settings_for(resp_, nullptr, "10.200.0.2/32");
    b.name = "b";
    b.endpoint_host = "b.zeq.test";
    b.endpoint_port = 51820;
    settings_ = b;
    node_ = std::make_unique<test::TestNode>(init_, std::vector<PeerSettings>{b}, hex(v_["mesh_secret"]), clock_);
    refresher_ = std::make_unique<EndpointRefresher>(
        node_->plane, clock_,
        [this]() -> Result<std::unique_ptr<HostResolver>> {
          ++resolvers_made_;
          auto r = std::make_unique<FakeResolver>();
          resolver_ = r.get();
          return std::unique_ptr<HostResolver>(std::move(r));
        },
        [this](Peer& p) { node_->sessions->endpoint_found(p); });
    node_->sessions->set_unanswered_hook([this](Peer& p) { refresher_->handshake_unanswered(p); });
  }
  void TearDown() override {
    refresher_.reset();
    node_.reset();
  }
  Peer& peer() { return *node_->plane.peers[0]; }
  // Runs the node's timers until `us` has passed, a tick at a time.
  void run_for(int64_t us) {
    for (int64_t t = 0; t < us; t += SessionManager::TICK_US) {
      clock_.advance_us(SessionManager::TICK_US);
      node_->sessions->tick();
      refresher_->tick();
    }
  }
  size_t initiations_to(const std::string& address) const {
    size_t n = 0;
    for (const auto& s : node_->sent)
      if (s.bytes[0] == wire::kHandshakeInit && s.to == *parse_udp_endpoint(address)) ++n;
    return n;
  }

  PeerSettings settings_;
  std::unique_ptr<test::TestNode> node_;
  std::unique_ptr<EndpointRefresher> refresher_;
  FakeResolver* resolver_ = nullptr;
  int resolvers_made_ = 0;
};

TEST_F(EndpointRefresherTest, ResolvesAtStartThenHandshakes) {
  refresher_->tick();  // as Node::run does, before start_all
  node_->sessions->start_all();
  ASSERT_NE(resolver_, nullptr);
  ASSERT_EQ(resolver_->queries.size(), 1u);
  EXPECT_EQ(resolver_->queries[0].host, "b.zeq.test");
  EXPECT_EQ(resolver_->queries[0].port, 51820);
  EXPECT_TRUE(node_->sent.empty());  // no endpoint yet, so no handshake
  refresher_->tick();
  EXPECT_EQ(resolver_->queries.size(), 1u);  // one in flight at a time
  resolver_->answer({"198.18.0.2:51820"});
  EXPECT_EQ(peer().endpoint.load().to_string(), "198.18.0.2:51820");
  EXPECT_EQ(initiations_to("198.18.0.2:51820"), 1u);  // the handshake starts at once
  refresher_->tick();
  EXPECT_TRUE(resolver_->queries.empty());  // resolved: no more queries while nothing fails
  EXPECT_EQ(resolvers_made_, 1);
}

TEST_F(EndpointRefresherTest, FailureAtStartIsRetriedWithBackoff) {
  refresher_->tick();
  resolver_->fail("Domain name not found (asked 192.0.2.53)");
  EXPECT_TRUE(peer().endpoint.load().empty());
  // 1 Zeqond, then 2: no query before each is up.
  run_for(TAU_ZQ_US - SessionManager::TICK_US);
  EXPECT_TRUE(resolver_->queries.empty());
  run_for(SessionManager::TICK_US);
  ASSERT_EQ(resolver_->queries.size(), 1u);
  resolver_->fail("Domain name not found (asked 192.0.2.53)");
  run_for(2 * TAU_ZQ_US - SessionManager::TICK_US);
  EXPECT_TRUE(resolver_->queries.empty());
  run_for(SessionManager::TICK_US);
  ASSERT_EQ(resolver_->queries.size(), 1u);
  EXPECT_TRUE(node_->sent.empty());
  resolver_->answer({"198.18.0.2:51820"});
  EXPECT_EQ(initiations_to("198.18.0.2:51820"), 1u);
}

TEST_F(EndpointRefresherTest, ReresolvesOnEachUnansweredRetryAndTheNextRetryFollows) {
  refresher_->tick();
  resolver_->answer({"198.18.0.2:51820"});
  ASSERT_EQ(initiations_to("198.18.0.2:51820"), 1u);
  // No answer: the retry asks the name again (and still goes to the old
  // address, as the answer is not in yet).
  run_for(zeqonds_to_us(HANDSHAKE_RETRY_Z) + HANDSHAKE_RETRY_JITTER_US);
  ASSERT_EQ(resolver_->queries.size(), 1u);
  EXPECT_EQ(initiations_to("198.18.0.2:51820"), 2u);
  // Another retry while that query is out adds none.
  run_for(zeqonds_to_us(HANDSHAKE_RETRY_Z) + HANDSHAKE_RETRY_JITTER_US);
  EXPECT_EQ(resolver_->queries.size(), 1u);
  EXPECT_EQ(initiations_to("198.18.0.2:51820"), 3u);
  // B moved: the answer replaces the endpoint, and the next retry goes there.
  resolver_->answer({"198.18.0.9:51820"});
  EXPECT_EQ(peer().endpoint.load().to_string(), "198.18.0.9:51820");
  EXPECT_EQ(initiations_to("198.18.0.9:51820"), 0u);
  run_for(zeqonds_to_us(HANDSHAKE_RETRY_Z) + HANDSHAKE_RETRY_JITTER_US);
  EXPECT_EQ(initiations_to("198.18.0.9:51820"), 1u);
  EXPECT_EQ(initiations_to("198.18.0.2:51820"), 3u);
  // An unchanged answer changes nothing.
  ASSERT_EQ(resolver_->queries.size(), 1u);
  resolver_->answer({"198.18.0.9:51820"});
  EXPECT_EQ(peer().endpoint.load().to_string(), "198.18.0.9:51820");
}

TEST_F(EndpointRefresherTest, FailedReresolveKeepsTheEndpoint) {
  refresher_->tick();
  resolver_->answer({"198.18.0.2:51820"});
  run_for(zeqonds_to_us(HANDSHAKE_RETRY_Z) + HANDSHAKE_RETRY_JITTER_US);
  ASSERT_EQ(resolver_->queries.size(), 1u);
  resolver_->fail("Timeout while contacting DNS servers (asked 192.0.2.53)");
  EXPECT_EQ(peer().endpoint.load().to_string(), "198.18.0.2:51820");
  // With an endpoint, the backoff does not ask; the next unanswered retry does.
  run_for(zeqonds_to_us(HANDSHAKE_RETRY_Z) - TAU_ZQ_US);
  EXPECT_TRUE(resolver_->queries.empty());
  run_for(TAU_ZQ_US + HANDSHAKE_RETRY_JITTER_US);
  EXPECT_EQ(resolver_->queries.size(), 1u);
}

// An authenticated packet from the peer while the query was out shows the
// endpoint in use works (roaming put it there): the answer is not used.
TEST_F(EndpointRefresherTest, RoamingWinsOverALateAnswer) {
  refresher_->tick();
  resolver_->answer({"198.18.0.2:51820"});
  run_for(zeqonds_to_us(HANDSHAKE_RETRY_Z) + HANDSHAKE_RETRY_JITTER_US);
  ASSERT_EQ(resolver_->queries.size(), 1u);
  peer().endpoint.store(*parse_udp_endpoint("203.0.113.5:40000"));  // a worker saw B there
  peer().last_rx_us.store(clock_.mono_us() + 1);
  resolver_->answer({"198.18.0.9:51820"});
  EXPECT_EQ(peer().endpoint.load().to_string(), "203.0.113.5:40000");
}

TEST_F(EndpointRefresherTest, ARenamedPeerIsResolvedAtOnceAndARemovedOneForgotten) {
  refresher_->tick();
  resolver_->answer({"198.18.0.2:51820"});
  peer().last_rx_us.store(clock_.mono_us() + 10 * TAU_ZQ_US);  // the tunnel works
  PeerSettings renamed = settings_;
  renamed.endpoint_host = "b2.zeq.test";
  node_->sessions->apply_peers({renamed});
  refresher_->tick();
  ASSERT_EQ(resolver_->queries.size(), 1u);
  EXPECT_EQ(resolver_->queries[0].host, "b2.zeq.test");
  resolver_->answer({"198.18.0.7:51820"});
  EXPECT_EQ(peer().endpoint.load().to_string(), "198.18.0.7:51820");  // a new name replaces, as a new address does

  // Removed while a query is out: the answer goes nowhere.
  run_for(zeqonds_to_us(HANDSHAKE_RETRY_Z) + HANDSHAKE_RETRY_JITTER_US);
  ASSERT_EQ(resolver_->queries.size(), 1u);
  node_->sessions->apply_peers({});
  refresher_->tick();
  resolver_->answer({"198.18.0.8:51820"});
  EXPECT_TRUE(node_->plane.peers.empty());
  EXPECT_EQ(refresher_->in_flight(), 0u);
}

TEST_F(EndpointRefresherTest, NoResolverIsAFailureRetriedLater) {
  refresher_ = std::make_unique<EndpointRefresher>(
      node_->plane, clock_,
      []() -> Result<std::unique_ptr<HostResolver>> { return Status::error("no name server to resolve endpoint host names with"); },
      [](Peer&) {});
  refresher_->tick();
  EXPECT_EQ(refresher_->in_flight(), 0u);
  EXPECT_TRUE(peer().endpoint.load().empty());
  run_for(TAU_ZQ_US);  // tried again after the backoff, without a crash
  EXPECT_TRUE(peer().endpoint.load().empty());
}

TEST(PickEndpoint, PrefersThePreviousFamilyElseTheFirst) {
  const std::vector<UdpEndpoint> answers = {*parse_udp_endpoint("[2001:db8::7]:51820"),
                                            *parse_udp_endpoint("198.51.100.7:51820"),
                                            *parse_udp_endpoint("198.51.100.8:51820")};
  EXPECT_EQ(pick_endpoint(answers, {}).to_string(), "[2001:db8::7]:51820");
  EXPECT_EQ(pick_endpoint(answers, *parse_udp_endpoint("198.51.100.1:51820")).to_string(), "198.51.100.7:51820");
  EXPECT_EQ(pick_endpoint(answers, *parse_udp_endpoint("[2001:db8::1]:51820")).to_string(), "[2001:db8::7]:51820");
  const std::vector<UdpEndpoint> v4_only = {*parse_udp_endpoint("198.51.100.7:51820")};
  EXPECT_EQ(pick_endpoint(v4_only, *parse_udp_endpoint("[2001:db8::1]:51820")).to_string(), "198.51.100.7:51820");
}

}  // namespace
}  // namespace zeq
