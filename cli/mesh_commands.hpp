// zeqvpnctl's one-command onboarding (docs/protocol.md, "Onboarding (mesh
// join)"): `mesh init` makes a mesh on the first node (authority, secrets,
// key, certificate, configuration), `mesh invite|invites|revoke` ask the
// running node that holds the authority for single-use invite tokens, and
// `mesh join TOKEN` enrols this machine with the token's bootstrap node and
// writes its key, certificate, credentials and configuration.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace zeq::ctl {

// How the mesh commands reach the daemon: the reply of a control command
// (exiting with the daemon's error as zeqvpnctl does), and whether --json
// was given.
struct MeshControl {
  std::function<nlohmann::json(const std::string& cmd, const nlohmann::json& args)> call;
  std::function<bool()> json;
};

void add_mesh_commands(CLI::App& app, MeshControl control);

}  // namespace zeq::ctl
