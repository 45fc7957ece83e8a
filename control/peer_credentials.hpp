// Who may use the control socket: root, the daemon's own user, and members of
// the control group (primary or supplementary). Decided from the connecting
// process's SO_PEERCRED credentials, never from anything it sends.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace zeq::control {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The credentials of the process at the other end of a Unix socket.
std::optional<PeerCredentials> peer_credentials(int fd);

// group: the control group's gid, or nullopt when it does not exist.
bool may_control(const PeerCredentials& who, std::optional<gid_t> group, uid_t daemon_uid);

// The gid of a group name, nullopt when there is no such group.
std::optional<gid_t> group_id(const std::string& name);

}  // namespace zeq::control
