// Cover traffic and padding: the derived rate, the constant schedule's
// long-run accuracy over 60 s windows (simulated clock, late wake-ups), the
// probabilistic schedule's mean, and the padding policies' sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "core/constants.hpp"
#include "mesh/cover_schedule.hpp"
#include "protocol/padding_policy.hpp"

namespace zeq {
namespace {

TEST(Cover, RateIsTenPulses) {
  EXPECT_NEAR(COVER_RATE_HZ, 12.87, 0.001);
  EXPECT_NEAR(cover_interval_ns(), 1e9 / 12.87, 1.0);
}

TEST(Cover, ConstantScheduleDoesNotDriftWithLateWakeUps) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> lateness(0, 5'000'000);  // wake-ups up to 5 ms late
  const int64_t start = 1'000'000'000;
  CoverSchedule s(CoverMode::kConstant, start, [] { return 1.0; });
  std::vector<int64_t> sent_at;
  int64_t now = start;
  while (now < start + 3600'000'000'000LL) {  // an hour
    now = s.next_due_ns() + lateness(rng);
    while (s.next_due_ns() <= now) {
      sent_at.push_back(now);
      s.advance();
    }
  }
  // Every 60 s window, sliding by 7 s: within 0.1 % of 12.87/s.
  for (int64_t w = start; w + 60'000'000'000LL <= now; w += 7'000'000'000LL) {
    auto lo = std::lower_bound(sent_at.begin(), sent_at.end(), w);
    auto hi = std::lower_bound(sent_at.begin(), sent_at.end(), w + 60'000'000'000LL);
    double rate = double(hi - lo) / 60.0;
    ASSERT_NEAR(rate, COVER_RATE_HZ, COVER_RATE_HZ * 0.001 + 1.0 / 60.0) << "window at " << (w - start) / 1e9 << " s";
  }
  // Measured the way the netns test does: packets between two sends over
  // the time between them.
  double exact = double(sent_at.size() - 1) / (double(sent_at.back() - sent_at.front()) / 1e9);
  EXPECT_NEAR(exact, COVER_RATE_HZ, COVER_RATE_HZ * 0.0001);
}

TEST(Cover, ProbabilisticScheduleHasTheSameMean) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  CoverSchedule s(CoverMode::kProbabilistic, 0, [&] { return 1.0 - u(rng); });
  std::vector<double> gaps;
  int64_t last = 0;
  for (int i = 0; i < 200000; ++i) {
    gaps.push_back(double(s.next_due_ns() - last));
    last = s.next_due_ns();
    s.advance();
  }
  double mean = 0, var = 0;
  for (double g : gaps) mean += g;
  mean /= double(gaps.size());
  for (double g : gaps) var += (g - mean) * (g - mean);
  var /= double(gaps.size());
  EXPECT_NEAR(mean, cover_interval_ns(), cover_interval_ns() * 0.01);
  EXPECT_NEAR(std::sqrt(var) / mean, 1.0, 0.02);  // exponential: sd == mean
}

TEST(Padding, PoliciesProduceOnlyTheirSizes) {
  const size_t mtu = 1416;
  EXPECT_EQ(padded_size(PaddingPolicy::kNone, 58, mtu), 64u);
  EXPECT_EQ(padded_size(PaddingPolicy::kNone, 1410, mtu), 1416u);
  EXPECT_EQ(padded_size(PaddingPolicy::kMtu, 1, mtu), mtu);
  EXPECT_EQ(padded_size(PaddingPolicy::kBuckets, 1, mtu), 128u);
  EXPECT_EQ(padded_size(PaddingPolicy::kBuckets, 128, mtu), 128u);
  EXPECT_EQ(padded_size(PaddingPolicy::kBuckets, 129, mtu), 256u);
  EXPECT_EQ(padded_size(PaddingPolicy::kBuckets, 1025, mtu), mtu);
  EXPECT_EQ(policy_sizes(PaddingPolicy::kBuckets, mtu), (std::vector<size_t>{128, 256, 512, 1024, 1416}));
  EXPECT_EQ(policy_sizes(PaddingPolicy::kMtu, mtu), std::vector<size_t>{1416});
  EXPECT_EQ(policy_sizes(PaddingPolicy::kNone, 1408).back(), 1392u + 16u);  // an MTU that is a multiple of 16
  for (size_t m : {mtu, size_t(1408), size_t(1280)}) {
    for (auto policy : {PaddingPolicy::kNone, PaddingPolicy::kBuckets, PaddingPolicy::kMtu}) {
      auto sizes = policy_sizes(policy, m);
      std::set<size_t> allowed(sizes.begin(), sizes.end());
      ASSERT_EQ(allowed.size(), sizes.size()) << "duplicate sizes";
      ASSERT_EQ(sizes.back(), m);
      for (size_t len = 1; len <= m; ++len)
        ASSERT_TRUE(allowed.count(padded_size(policy, len, m))) << to_string(policy) << " " << len << " mtu " << m;
    }
  }
  EXPECT_EQ(padding_policy_from("buckets"), PaddingPolicy::kBuckets);
  EXPECT_FALSE(padding_policy_from("random"));
  EXPECT_EQ(cover_mode_from("probabilistic"), CoverMode::kProbabilistic);
}

}  // namespace
}  // namespace zeq
