// Logging set-up. Everything logs through spdlog's default logger to stderr,
// which systemd sends to the journal. Secrets are never passed to a logger.
// Repeated lines are rate-limited at every level (log_rate_limit.hpp): per
// Zeqond the first few of a kind pass and one summary line counts the rest.
#pragma once

#include <string_view>

#include "core/result.hpp"

namespace zeq {

// level: trace, debug, info, warn, error. Returns an error naming the value.
Status init_logging(std::string_view level);

// Writes the summaries of a rate-limit window that has ended and flushes.
// The daemon calls it every Zeqond, so a flood's count is reported even when
// nothing is logged after it, and at shutdown.
void flush_log();

}  // namespace zeq
