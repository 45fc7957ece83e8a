#include "control/peer_credentials.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace zeq::control {

std::optional<PeerCredentials> peer_credentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return std::nullopt;
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

namespace {

// Supplementary groups of a user, from the group database (the peer's own
// supplementary groups are not in SO_PEERCRED).
bool user_in_group(uid_t uid, gid_t primary, gid_t group) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return false;
  int n = 64;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  if (getgrouplist(pw.pw_name, primary, groups.data(), &n) < 0) {
    groups.resize(size_t(n));
    if (getgrouplist(pw.pw_name, primary, groups.data(), &n) < 0) return false;
  }
  for (int i = 0; i < n; ++i)
    if (groups[size_t(i)] == group) return true;
  return false;
}

}  // namespace

bool may_control(const PeerCredentials& who, std::optional<gid_t> group, uid_t daemon_uid) {
  if (who.uid == 0 || who.uid == daemon_uid) return true;
  if (!group) return false;
  return who.gid == *group || user_in_group(who.uid, who.gid, *group);
}

std::optional<gid_t> group_id(const std::string& name) {
  std::vector<char> buf(16384);
  group gr{};
  group* found = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) return std::nullopt;
  return found->gr_gid;
}

}  // namespace zeq::control
