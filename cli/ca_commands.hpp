// zeqvpnctl's mesh-certificate commands, all offline: `ca init|sign|revoke`
// (the mesh authority's side) and `cert show|verify` (anyone's).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

namespace zeq::ctl {

// "30d", "12h", "90m", "45s" in seconds (also `mesh invite --expires`);
// nullopt when malformed, zero, or past 2^64 microseconds.
std::optional<uint64_t> duration_seconds(std::string_view text);

// Adds the `ca` and `cert` subcommands to zeqvpnctl's app. Their options
// live as long as the app's callbacks do.
void add_ca_commands(CLI::App& app);

}  // namespace zeq::ctl
