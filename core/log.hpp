// Logging set-up. Everything logs through spdlog's default logger to stderr,
// which systemd sends to the journal. Secrets are never passed to a logger.
#pragma once

#include <string_view>

#include "core/result.hpp"

namespace zeq {

// level: trace, debug, info, warn, error. Returns an error naming the value.
Status init_logging(std::string_view level);

}  // namespace zeq
