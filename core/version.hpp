// The version both executables report.
#pragma once

namespace zeq {
inline constexpr char VERSION[] = "0.1.0";
inline constexpr char PROTOCOL_VERSION_NAME[] = "zeqvpn/1";
}  // namespace zeq
