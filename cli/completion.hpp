// Shell completion for zeqvpnctl (bash and zsh), written from the CLI11
// definition itself by the hidden `zeqvpnctl completion bash|zsh`, so it
// cannot fall behind the commands: the build runs it and installs the
// scripts. They complete subcommands, options, fixed values (IsMember
// checks), files where a file is wanted, and peer names, which they ask the
// running daemon for (`zeqvpnctl completion peers`: nothing at all when it
// is not reachable).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace zeq::ctl {

std::string bash_completion(CLI::App& app);
std::string zsh_completion(CLI::App& app);

// Adds the hidden `completion` subcommand (not in --help). peer_names asks
// the daemon and returns nothing when it cannot.
void add_completion_command(CLI::App& app, std::function<std::vector<std::string>()> peer_names);

}  // namespace zeq::ctl
