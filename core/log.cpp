#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace zeq {

Status init_logging(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return Status::error("log level '" + std::string(level) +
                         "' is not known; use one of trace, debug, info, warn, error");
  }
  auto logger = spdlog::stderr_color_mt("zeqvpn");
  // The journal adds its own timestamp; keep ours for plain terminals and tests.
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  return Status::ok();
}

}  // namespace zeq
