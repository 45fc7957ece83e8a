// The repeated-line rate limit of core/log_rate_limit.hpp, against a sink
// that keeps what reaches it. Time is a manual clock, so windows end exactly
// when the test says.
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/constants.hpp"
#include "core/log_rate_limit.hpp"

namespace zeq {
namespace {

struct Line {
  spdlog::level::level_enum level;
  std::string text;
};

class KeepingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<Line> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  int flushes() {
    std::lock_guard lock(mutex_);
    return flushes_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.push_back({msg.level, std::string(msg.payload.data(), msg.payload.size())});
  }
  void flush_() override { ++flushes_; }

 private:
  std::vector<Line> lines_;
  int flushes_ = 0;
};

constexpr int PER_WINDOW = 5;

struct Limited {
  explicit Limited(size_t max_kinds = 1024)
      : kept(std::make_shared<KeepingSink>()),
        sink(std::make_shared<RepeatLimitSink>(kept, RepeatLimits{PER_WINDOW, max_kinds, [this] { return now.load(); }})),
        logger("test", sink) {
    logger.set_level(spdlog::level::trace);
  }
  std::atomic<int64_t> now{1'000'000};
  std::shared_ptr<KeepingSink> kept;
  std::shared_ptr<RepeatLimitSink> sink;
  spdlog::logger logger;
};

TEST(LogRateLimit, HundredThousandIdenticalLinesBecomeFivePlusOneSummary) {
  Limited l;
  for (int i = 0; i < 100000; ++i) l.logger.debug("handshake rejected (bad_mac1): from 198.18.0.3:{}", 40000 + i % 20000);
  EXPECT_EQ(l.kept->lines().size(), size_t(PER_WINDOW));  // the summary waits for the window's end
  l.now += TAU_ZQ_US;
  l.logger.flush();  // no further line: the daemon's every-Zeqond flush closes the window
  auto lines = l.kept->lines();
  ASSERT_EQ(lines.size(), size_t(PER_WINDOW + 1));
  EXPECT_EQ(lines.back().level, spdlog::level::debug);
  EXPECT_NE(lines.back().text.find("and 99995 more like \"handshake rejected (bad_mac1): from 198.18.0.3:"),
            std::string::npos)
      << lines.back().text;
  EXPECT_NE(lines.back().text.find("in the last Zeqond"), std::string::npos);
}

TEST(LogRateLimit, DifferentLinesAndLevelsAreNotHeldBack) {
  Limited l;
  const char* words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"};
  for (int round = 0; round < 3; ++round)
    for (const char* w : words) l.logger.info("peer {} is up", w);
  for (int i = 0; i < PER_WINDOW; ++i) l.logger.warn("peer alpha is up");  // same text, other level
  EXPECT_EQ(l.kept->lines().size(), size_t(3 * 8 + PER_WINDOW));
  l.now += TAU_ZQ_US;
  l.logger.flush();
  EXPECT_EQ(l.kept->lines().size(), size_t(3 * 8 + PER_WINDOW));  // nothing held, no summary
}

TEST(LogRateLimit, NextLineAfterTheWindowWritesTheSummaryFirstAndStartsAfresh) {
  Limited l;
  for (int i = 0; i < 12; ++i) l.logger.warn("state: checkpoint of tunnel {}: disk full", i);
  l.now += TAU_ZQ_US + 1;
  l.logger.warn("state: checkpoint of tunnel 99: disk full");
  auto lines = l.kept->lines();
  ASSERT_EQ(lines.size(), size_t(PER_WINDOW + 2));
  EXPECT_NE(lines[PER_WINDOW].text.find("and 7 more like"), std::string::npos) << lines[PER_WINDOW].text;
  EXPECT_EQ(lines[PER_WINDOW].level, spdlog::level::warn);
  EXPECT_EQ(lines.back().text, "state: checkpoint of tunnel 99: disk full");  // a new window lets it through
}

TEST(LogRateLimit, FlushBeforeTheWindowEndsKeepsCounting) {
  Limited l;
  for (int i = 0; i < 10; ++i) l.logger.info("same");
  l.now += TAU_ZQ_US / 2;
  l.logger.flush();
  EXPECT_EQ(l.kept->lines().size(), size_t(PER_WINDOW));
  EXPECT_GE(l.kept->flushes(), 1);  // the flush reaches the real sink all the same
  for (int i = 0; i < 10; ++i) l.logger.info("same");
  l.now += TAU_ZQ_US / 2;
  l.logger.flush();
  auto lines = l.kept->lines();
  ASSERT_EQ(lines.size(), size_t(PER_WINDOW + 1));
  EXPECT_NE(lines.back().text.find("and 15 more"), std::string::npos) << lines.back().text;
}

TEST(LogRateLimit, ShutdownReportsWhatTheLastWindowHeldBack) {
  auto kept = std::make_shared<KeepingSink>();
  {
    auto sink = std::make_shared<RepeatLimitSink>(kept, RepeatLimits{PER_WINDOW, 1024, [] { return int64_t{0}; }});
    spdlog::logger logger("test", sink);
    for (int i = 0; i < 8; ++i) logger.error("tun read failed");
  }
  auto lines = kept->lines();
  ASSERT_EQ(lines.size(), size_t(PER_WINDOW + 1));
  EXPECT_NE(lines.back().text.find("and 3 more"), std::string::npos);
}

TEST(LogRateLimit, KindsBeyondTheCapShareOneLimitedCounter) {
  Limited l(4);
  const char* words[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  for (int i = 0; i < 100; ++i) l.logger.info("kind {}", words[i % 10]);  // 10 kinds, 4 tracked
  // 4 tracked kinds x 5, plus 5 of the shared counter.
  EXPECT_EQ(l.kept->lines().size(), size_t(4 * PER_WINDOW + PER_WINDOW));
  l.now += TAU_ZQ_US;
  l.logger.flush();
  auto lines = l.kept->lines();
  int summaries = 0;
  for (const auto& line : lines) summaries += line.text.rfind("... and ", 0) == 0;
  EXPECT_EQ(summaries, 5);  // one per tracked kind, one for the rest
  EXPECT_NE(lines.back().text.find("and 55 more lines of 4+ other kinds"), std::string::npos) << lines.back().text;
}

TEST(LogRateLimit, ManyThreadsCountEveryLine) {
  Limited l;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25000; ++i) l.logger.debug("dropped a packet from worker {}", t);
    });
  for (auto& t : threads) t.join();
  l.now += TAU_ZQ_US;
  l.logger.flush();
  auto lines = l.kept->lines();
  ASSERT_EQ(lines.size(), size_t(PER_WINDOW + 1));
  EXPECT_NE(lines.back().text.find("and 99995 more"), std::string::npos) << lines.back().text;
}

// Not a timed assertion: prints what the limit costs per line when nothing
// is held back (100 kinds, each logged 5 times per window, the window ending
// every 500 lines), against the same logger without it.
TEST(LogRateLimit, CostWhenNothingRepeats) {
  constexpr int LINES = 500000;
  std::vector<std::string> names;
  for (int k = 0; k < 100; ++k) names.push_back("peer-" + std::string(size_t(k + 1), 'x'));
  int64_t n = 0;
  auto time_lines = [&](spdlog::logger& logger) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < LINES; ++i, ++n) logger.info("{} sent {} bytes", names[size_t(i % 100)], i);
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / LINES;
  };
  auto null = std::make_shared<spdlog::sinks::null_sink_mt>();
  spdlog::logger plain("plain", null);
  auto kept = std::make_shared<KeepingSink>();
  spdlog::logger counted("counted", std::make_shared<RepeatLimitSink>(kept, RepeatLimits{PER_WINDOW, 1024, [&] { return n / 500 * TAU_ZQ_US; }}));
  spdlog::logger limited("limited", std::make_shared<RepeatLimitSink>(null, RepeatLimits{PER_WINDOW, 1024, [&] { return n / 500 * TAU_ZQ_US; }}));
  for (int i = 0; i < 1000; ++i, ++n) counted.info("{} sent {} bytes", names[size_t(i % 100)], i);
  EXPECT_EQ(kept->lines().size(), 1000u);  // the set-up holds nothing back
  double base = time_lines(plain), with = time_lines(limited);
  std::printf("[ cost     ] %.0f ns per line without the limit, %.0f ns with it (null sink; a line written to "
              "stderr costs about a microsecond or more)\n",
              base, with);
}

}  // namespace
}  // namespace zeq
