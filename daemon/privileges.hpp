// Giving up what the daemon no longer needs once the TUN device, sockets and
// files are open: every capability except CAP_NET_ADMIN (routes on reload,
// socket marks), in the effective, permitted, inheritable and bounding sets.
#pragma once

#include "core/result.hpp"

namespace zeq {

// Returns a description of what was kept, or an error. Without CAP_SETPCAP
// (an unprivileged service user) the bounding set is left to systemd's
// CapabilityBoundingSet=.
Result<std::string> drop_capabilities();

}  // namespace zeq
