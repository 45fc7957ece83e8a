#include "core/log_rate_limit.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/fmt/fmt.h>

#include "core/clock.hpp"
#include "core/constants.hpp"

namespace zeq {

namespace {

// Long enough to recognise the line, short enough that a summary stays one
// readable line.
constexpr size_t EXAMPLE_CHARS = 160;

// FNV-1a over the level and the text without its digits: one pass, no
// allocation, so lines that do not repeat cost next to nothing.
uint64_t kind_hash(spdlog::level::level_enum level, spdlog::string_view_t text) {
  uint64_t h = 1469598103934665603ull ^ uint64_t(level);
  for (char c : text) {
    if (c >= '0' && c <= '9') continue;
    h = (h ^ uint8_t(c)) * 1099511628211ull;
  }
  return h;
}

}  // namespace

RepeatLimitSink::RepeatLimitSink(std::shared_ptr<spdlog::sinks::sink> inner, RepeatLimits limits)
    : inner_(std::move(inner)), limits_(std::move(limits)) {
  if (!limits_.now_us) limits_.now_us = [] { return mono_now_us(); };
}

RepeatLimitSink::~RepeatLimitSink() {
  // Shutdown: what the last window held back is still reported.
  std::lock_guard lock(mutex_);
  if (window_open_) close_window();
  inner_->flush();
}

void RepeatLimitSink::log(const spdlog::details::log_msg& msg) {
  std::lock_guard lock(mutex_);
  const int64_t now = limits_.now_us();
  if (window_open_ && now - window_start_ >= TAU_ZQ_US) close_window();
  if (!window_open_) {
    window_start_ = now;
    window_open_ = true;
    if (logger_name_.empty()) logger_name_.assign(msg.logger_name.data(), msg.logger_name.size());
  }
  Kind* kind = &overflow_;
  const uint64_t key = kind_hash(msg.level, msg.payload);
  if (auto it = kinds_.find(key); it != kinds_.end()) kind = &it->second;
  else if (kinds_.size() < limits_.max_kinds) kind = &kinds_[key];
  if (++kind->seen <= uint64_t(limits_.per_window)) {
    inner_->log(msg);
    return;
  }
  if (kind->example.empty()) {
    kind->level = msg.level;
    kind->example.assign(msg.payload.data(), std::min(msg.payload.size(), EXAMPLE_CHARS));
    if (msg.payload.size() > EXAMPLE_CHARS) kind->example += "...";
    any_held_ = true;
  }
}

void RepeatLimitSink::flush() {
  std::lock_guard lock(mutex_);
  if (window_open_ && limits_.now_us() - window_start_ >= TAU_ZQ_US) close_window();
  inner_->flush();
}

void RepeatLimitSink::close_window() {
  if (any_held_) {
    for (const auto& [key, kind] : kinds_)
      if (kind.seen > uint64_t(limits_.per_window)) summarize(kind, false);
    if (overflow_.seen > uint64_t(limits_.per_window)) summarize(overflow_, true);
  }
  kinds_.clear();
  overflow_ = Kind{};
  any_held_ = false;
  window_open_ = false;
}

void RepeatLimitSink::summarize(const Kind& kind, bool overflow) {
  const uint64_t held = kind.seen - uint64_t(limits_.per_window);
  std::string text =
      overflow ? fmt::format("... and {} more lines of {}+ other kinds in the last Zeqond, held back (the first: \"{}\")", held,
                             limits_.max_kinds, kind.example)
               : fmt::format("... and {} more like \"{}\" in the last Zeqond (at most {} of a kind are logged per Zeqond)",
                             held, kind.example, limits_.per_window);
  spdlog::details::log_msg summary(spdlog::source_loc{}, logger_name_, kind.level, text);
  inner_->log(summary);
}

void RepeatLimitSink::set_pattern(const std::string& pattern) { inner_->set_pattern(pattern); }

void RepeatLimitSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  inner_->set_formatter(std::move(formatter));
}

}  // namespace zeq
