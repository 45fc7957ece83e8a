#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

#include "core/log_rate_limit.hpp"

namespace zeq {

Status init_logging(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return Status::error("log level '" + std::string(level) +
                         "' is not known; use one of trace, debug, info, warn, error");
  }
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto limited = std::make_shared<RepeatLimitSink>(std::move(stderr_sink), RepeatLimits{});
  auto logger = std::make_shared<spdlog::logger>("zeqvpn", std::move(limited));
  // The journal adds its own timestamp; keep ours for plain terminals and tests.
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  return Status::ok();
}

void flush_log() { spdlog::default_logger_raw()->flush(); }

}  // namespace zeq
