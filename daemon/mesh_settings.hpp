// The configuration file's typed Config, turned into what the mesh needs
// (mesh/ does not depend on config/). Field for field; nothing is parsed
// here, config/ did that.
#pragma once

#include "config/config.hpp"
#include "mesh/node_settings.hpp"

namespace zeq {

PeerSettings peer_settings(const PeerConfig& peer);
// exit_offer: what the exit role offers (daemon/exit_server.hpp decides).
NodeSettings node_settings(const Config& config, const ExitOfferSettings& exit_offer = {});

}  // namespace zeq
