// The configuration file's typed Config, turned into what the mesh needs
// (mesh/ does not depend on config/). Field for field; nothing is parsed
// here, config/ did that.
#pragma once

#include "config/config.hpp"
#include "mesh/node_settings.hpp"

namespace zeq {

PeerSettings peer_settings(const PeerConfig& peer);
NodeSettings node_settings(const Config& config);

}  // namespace zeq
