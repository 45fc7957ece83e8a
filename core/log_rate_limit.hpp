// Rate limit for repeated log lines, as an spdlog sink in front of the real
// one. A flood of one kind of line (a rejected handshake per forged packet,
// say) must not fill the disk or the journal: per Zeqond, the first
// `per_window` lines of each kind pass, the rest are counted, and when the
// window ends one line says how many were held back.
//
// A line's kind is its level and its text with the digits left out, so
// "handshake rejected (rejected_clock): peer stamped Zeqond 123" and "... 124"
// are one kind, while different messages or different peers' names are not.
//
// The window closes on the first line logged after it ends, on flush() (the
// daemon calls it every Zeqond from its event loop, so a summary is not held
// back when the flood stops and nothing else is logged) and when the sink is
// destroyed. Thread-safe: data-plane workers and the control thread log.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <spdlog/sinks/sink.h>

namespace zeq {

struct RepeatLimits {
  // Lines of one kind that pass per window.
  int per_window = 5;
  // Kinds tracked per window (bounded memory). Lines of kinds beyond it share
  // one extra counter, limited like a single kind.
  size_t max_kinds = 1024;
  // Monotonic microseconds; tests hand in a manual clock.
  std::function<int64_t()> now_us;
};

class RepeatLimitSink final : public spdlog::sinks::sink {
 public:
  RepeatLimitSink(std::shared_ptr<spdlog::sinks::sink> inner, RepeatLimits limits);
  ~RepeatLimitSink() override;

  void log(const spdlog::details::log_msg& msg) override;
  // Writes the summaries of a window that has ended, then flushes the sink.
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  struct Kind {
    uint64_t seen = 0;  // lines of this kind in the window
    spdlog::level::level_enum level = spdlog::level::info;
    std::string example;  // the first held-back line, kept once lines are held back
  };
  // Emits "... and N more" for every kind that held lines back, then starts
  // a new window. Called with mutex_ held.
  void close_window();
  // overflow: the shared counter of kinds beyond max_kinds.
  void summarize(const Kind& kind, bool overflow);

  std::shared_ptr<spdlog::sinks::sink> inner_;
  RepeatLimits limits_;
  std::mutex mutex_;
  int64_t window_start_ = 0;
  bool window_open_ = false;
  bool any_held_ = false;
  std::unordered_map<uint64_t, Kind> kinds_;  // by hash of the kind
  Kind overflow_;                             // kinds beyond max_kinds
  std::string logger_name_;
};

}  // namespace zeq
