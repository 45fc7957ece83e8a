// The control socket's protocol (docs/control.md): newline-delimited JSON,
// one request and one reply per line, versioned by "v".
//   request: {"v":1,"id":7,"cmd":"status","args":{}}
//   reply:   {"v":1,"id":7,"ok":true,"result":{...}}
//            {"v":1,"id":7,"ok":false,"error":{"code":"unknown_peer","message":"..."}}
#pragma once

#include <cstddef>

namespace zeq::control {

inline constexpr int PROTOCOL_VERSION = 1;
// A longer line is a protocol error; the connection is closed.
inline constexpr size_t MAX_LINE = 64 * 1024;
// `tunnels`: at most this many rows per request (limit, default 50).
inline constexpr int MAX_TUNNEL_ROWS = 100000;
inline constexpr int DEFAULT_TUNNEL_ROWS = 50;

// Error codes a reply may carry. Clients map them to exit codes.
inline constexpr char BAD_REQUEST[] = "bad_request";          // not JSON, missing fields, bad arguments
inline constexpr char UNSUPPORTED_VERSION[] = "unsupported_version";
inline constexpr char UNKNOWN_COMMAND[] = "unknown_command";
inline constexpr char UNKNOWN_PEER[] = "unknown_peer";
inline constexpr char PERMISSION_DENIED[] = "permission_denied";
inline constexpr char FAILED[] = "failed";                   // the command ran and did not succeed

}  // namespace zeq::control
