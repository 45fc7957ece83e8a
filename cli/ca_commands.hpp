// zeqvpnctl's mesh-certificate commands, all offline: `ca init|sign|revoke`
// (the mesh authority's side) and `cert show|verify` (anyone's).
#pragma once

#include <CLI/CLI.hpp>

namespace zeq::ctl {

// Adds the `ca` and `cert` subcommands to zeqvpnctl's app. Their options
// live as long as the app's callbacks do.
void add_ca_commands(CLI::App& app);

}  // namespace zeq::ctl
