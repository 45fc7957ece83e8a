// Fuzz target: one control socket request line (docs/control.md) as the
// daemon's control server reads it from whoever connected:
// control::parse_request, then the reply's echo of the request's id.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/control_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  zeq::control::ParsedRequest parsed = zeq::control::parse_request(line);
  // The reply echoes the id whether or not the request was good.
  (void)parsed.request.id.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!parsed.ok) {
    if (parsed.code.empty() || parsed.message.empty()) __builtin_trap();  // every refusal says why
    return 0;
  }
  if (line.find('\0') != std::string_view::npos) __builtin_trap();  // text after a NUL is never a request
  if (!parsed.request.args.is_object()) __builtin_trap();
  return 0;
}
