// NAT traversal's pure parts: the messages (protocol/nat_messages.hpp) byte
// for byte and their refusals, the NAT classification (protocol/nat_type.hpp)
// and the hole-punching timing (relay/hole_punch.hpp).
#include <gtest/gtest.h>

#include "protocol/nat_messages.hpp"
#include "protocol/nat_type.hpp"
#include "relay/hole_punch.hpp"

namespace zeq {
namespace {

UdpEndpoint ep(const char* text) { return *parse_udp_endpoint(text); }

Bytes hex(const char* h) {
  Bytes b;
  for (size_t i = 0; h[i] && h[i + 1]; i += 2) {
    if (h[i] == ' ') { --i; continue; }
    b.push_back(uint8_t(std::stoi(std::string(h + i, 2), nullptr, 16)));
  }
  return b;
}

TEST(NatMessages, ObserveAndObservedBytes) {
  EXPECT_EQ(encode_nat_observe({0x0102030405060708}), hex("011a0102030405060708"));
  auto seen = encode_nat_observed({7, ep("198.51.100.1:51820")});
  EXPECT_EQ(seen, hex("011b0000000000000007" "04c6336401" "ca6c"));
  auto back = parse_nat_observed(seen);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->nonce, 7u);
  EXPECT_EQ(back->seen, ep("198.51.100.1:51820"));
  auto v6 = encode_nat_observed({1, ep("[2001:db8::5]:443")});
  EXPECT_EQ(v6.size(), 2u + 8 + 1 + 16 + 2);
  EXPECT_EQ(parse_nat_observed(v6)->seen, ep("[2001:db8::5]:443"));
}

TEST(NatMessages, CandidatesRoundTripAndPadding) {
  NatCandidates m;
  m.token = 0xaabbccdd00112233;
  m.answer = true;
  m.nat = NatType::kEndpointIndependent;
  m.candidates = {ep("198.51.100.1:51820"), ep("10.0.0.2:51820"), ep("[2001:db8::1]:51820")};
  Bytes b = encode_nat_candidates(m);
  EXPECT_EQ(Bytes(b.begin(), b.begin() + 13), hex("011caabbccdd00112233" "01" "02" "03"));
  b.resize(b.size() + 9, 0);  // padding, as a data message carries it
  auto back = parse_nat_candidates(b);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->token, m.token);
  EXPECT_TRUE(back->answer);
  EXPECT_EQ(back->nat, NatType::kEndpointIndependent);
  EXPECT_EQ(back->candidates, m.candidates);
}

TEST(NatMessages, ProbeAndReply) {
  Bytes p = encode_nat_probe({1, 2});
  EXPECT_EQ(p, hex("011d" "0000000000000001" "0000000000000002"));
  EXPECT_EQ(parse_nat_probe(p)->nonce, 2u);
  Bytes r = encode_nat_probe_reply({2, ep("203.0.113.9:40000")});
  EXPECT_EQ(parse_nat_probe_reply(r)->seen, ep("203.0.113.9:40000"));
  EXPECT_FALSE(parse_nat_probe(r));  // another type
}

TEST(NatMessages, RefusesBadInput) {
  const Bytes good = encode_nat_observed({7, ep("198.51.100.1:51820")});
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(parse_nat_observed(Bytes(good.begin(), good.begin() + long(n)))) << n;
  Bytes trailing = good;
  trailing.push_back(1);  // not padding
  EXPECT_FALSE(parse_nat_observed(trailing));
  Bytes family = good;
  family[10] = 5;
  EXPECT_FALSE(parse_nat_observed(family));
  Bytes port0 = good;
  port0[15] = port0[16] = 0;
  EXPECT_FALSE(parse_nat_observed(port0));
  Bytes unspecified = good;
  std::fill(unspecified.begin() + 11, unspecified.begin() + 15, 0);
  EXPECT_FALSE(parse_nat_observed(unspecified));
  Bytes loopback = good;
  loopback[11] = 127;
  EXPECT_FALSE(parse_nat_observed(loopback));
  // An IPv4 address only as family 4.
  EXPECT_FALSE(parse_nat_observed(hex("011b0000000000000007" "06" "00000000000000000000ffffc6336401" "ca6c")));
  EXPECT_FALSE(parse_nat_observe(hex("011b0000000000000007")));  // wrong type
  EXPECT_FALSE(parse_nat_observe(hex("021a0000000000000007")));  // not a control message

  NatCandidates m;
  m.candidates = {ep("198.51.100.1:51820")};
  Bytes c = encode_nat_candidates(m);
  Bytes flags = c;
  flags[10] = 0x02;  // unknown flag
  EXPECT_FALSE(parse_nat_candidates(flags));
  Bytes nat = c;
  nat[11] = 4;  // no such NAT type
  EXPECT_FALSE(parse_nat_candidates(nat));
  Bytes count = c;
  count[12] = 2;  // says two, has one
  EXPECT_FALSE(parse_nat_candidates(count));
  Bytes many = c;
  many[12] = 17;
  EXPECT_FALSE(parse_nat_candidates(many));
  m.candidates = {ep("198.51.100.1:51820"), ep("198.51.100.1:51820")};
  EXPECT_FALSE(parse_nat_candidates(encode_nat_candidates(m)));  // twice
}

TEST(NatType, Classification) {
  const std::vector<UdpEndpoint> local = {ep("10.0.0.2:51820")};
  EXPECT_EQ(classify_nat({}, local), NatType::kUnknown);
  EXPECT_EQ(classify_nat({ep("10.0.0.2:51820"), ep("10.0.0.2:51820")}, local), NatType::kNone);
  EXPECT_EQ(classify_nat({ep("198.51.100.1:51820")}, local), NatType::kUnknown);
  EXPECT_EQ(classify_nat({ep("198.51.100.1:51820"), ep("198.51.100.1:51820")}, local),
            NatType::kEndpointIndependent);
  EXPECT_EQ(classify_nat({ep("198.51.100.1:40001"), ep("198.51.100.1:40002")}, local), NatType::kSymmetric);
  EXPECT_EQ(classify_nat({ep("198.51.100.1:51820"), ep("198.51.100.9:51820")}, local), NatType::kSymmetric);
  // An observer on our side of the NAT (it sees the local endpoint) is left out.
  EXPECT_EQ(classify_nat({ep("10.0.0.2:51820"), ep("198.51.100.1:51820"), ep("198.51.100.1:51820")}, local),
            NatType::kEndpointIndependent);
  EXPECT_FALSE(punch_worthwhile(NatType::kSymmetric, NatType::kSymmetric));
  EXPECT_TRUE(punch_worthwhile(NatType::kSymmetric, NatType::kEndpointIndependent));
  EXPECT_TRUE(punch_worthwhile(NatType::kUnknown, NatType::kSymmetric));
}

TEST(HolePunch, RoundsBackOffAndEnd) {
  HolePunch h;
  int64_t t = 1'000'000;
  EXPECT_TRUE(h.may_ask(t));
  h.asked(t);
  EXPECT_FALSE(h.may_ask(t));
  h.start_punching(t);
  int rounds = 0;
  int64_t last = t, max_gap = 0;
  for (int64_t now = t; now < t + HolePunch::PUNCH_FOR_US; now += 10'000) {
    if (h.round_due(now)) {
      ++rounds;
      max_gap = std::max(max_gap, now - last);
      last = now;
    }
    EXPECT_FALSE(h.timed_out(now));
  }
  EXPECT_GE(rounds, 10);
  EXPECT_LE(rounds, 30);  // bounded
  EXPECT_LE(max_gap, HolePunch::PUNCH_MAX_GAP_US + 10'000);
  EXPECT_TRUE(h.timed_out(t + HolePunch::PUNCH_FOR_US + 1));
  h.fail(t + HolePunch::PUNCH_FOR_US + 1);
  EXPECT_EQ(h.phase(), HolePunch::Phase::kFailed);
  EXPECT_FALSE(h.may_ask(t + HolePunch::PUNCH_FOR_US + 2));
  EXPECT_TRUE(h.may_ask(t + HolePunch::PUNCH_FOR_US + 1 + HolePunch::RETRY_FIRST_US));
  // Failures in a row back off, up to the maximum.
  for (int i = 0; i < 20; ++i) h.fail(t);
  EXPECT_EQ(h.retry_at_us(), t + HolePunch::RETRY_MAX_US);
}

TEST(HolePunch, DirectLivenessAndFallback) {
  HolePunch h;
  int64_t t = 5'000'000;
  h.start_punching(t);
  h.direct(t + 1000);
  EXPECT_EQ(h.phase(), HolePunch::Phase::kDirect);
  EXPECT_EQ(h.failures(), 0);
  EXPECT_FALSE(h.probe_due(t + 2000));
  EXPECT_TRUE(h.probe_due(t + 1000 + HolePunch::DIRECT_PROBE_EVERY_US));
  h.probed(t + 1000 + HolePunch::DIRECT_PROBE_EVERY_US);
  EXPECT_FALSE(h.probe_due(t + 1000 + HolePunch::DIRECT_PROBE_EVERY_US + 1));
  // Replies keep it alive; without them it is dead after DIRECT_DEAD_AFTER.
  h.reply(t + 400'000);
  EXPECT_FALSE(h.direct_dead(t + 400'000 + HolePunch::DIRECT_DEAD_AFTER_US, 1000));
  EXPECT_TRUE(h.direct_dead(t + 400'001 + HolePunch::DIRECT_DEAD_AFTER_US, 1000));
  // A slow path waits four round trips.
  EXPECT_FALSE(h.direct_dead(t + 400'001 + HolePunch::DIRECT_DEAD_AFTER_US, HolePunch::DIRECT_DEAD_AFTER_US));
  // Detection plus a probe period stays well inside 2 Zeqonds.
  static_assert(HolePunch::DIRECT_DEAD_AFTER_US + HolePunch::DIRECT_PROBE_EVERY_US < 2 * TAU_ZQ_US);
  h.symmetric(t);
  EXPECT_EQ(h.phase(), HolePunch::Phase::kSymmetric);
  EXPECT_FALSE(h.may_ask(t + 1));
  EXPECT_TRUE(h.may_ask(t + HolePunch::SYMMETRIC_RECHECK_US));
  h.reset();
  EXPECT_EQ(h.phase(), HolePunch::Phase::kIdle);
}

}  // namespace
}  // namespace zeq
