#include "daemon/privileges.hpp"

#include <cap-ng.h>
#include <linux/capability.h>

namespace zeq {

Result<std::string> drop_capabilities() {
  bool had_admin = capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN);
  bool can_bound = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
  capng_clear(can_bound ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS);
  if (had_admin) capng_update(CAPNG_ADD, capng_type_t(CAPNG_EFFECTIVE | CAPNG_PERMITTED), CAP_NET_ADMIN);
  if (can_bound && had_admin) capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, CAP_NET_ADMIN);
  if (int rc = capng_apply(can_bound ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS); rc != 0)
    return Status::error("dropping capabilities failed (capng_apply " + std::to_string(rc) + ")");
  return std::string(had_admin ? "CAP_NET_ADMIN" : "none") + (can_bound ? "" : " (bounding set left to systemd)");
}

}  // namespace zeq
