// Reading and writing the kernel's network settings under /proc/sys (the
// forwarding switches an exit node needs, src_valid_mark for exit routing).
// With CAP_NET_ADMIN the network namespace's own settings are writable.
#pragma once

#include <string>

#include "core/result.hpp"

namespace zeq {

// `name` in sysctl's dotted form, e.g. "net.ipv4.ip_forward".
Result<long> read_sysctl(const std::string& name);
Status write_sysctl(const std::string& name, long value);

}  // namespace zeq
