// Fuzz target: the YAML configuration text, as zeqvpnd, `zeqvpnd --check` and
// `zeqvpnctl config check` hand it to parse_config. Every refusal must say
// why (a Status with a message), never throw or crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = zeq::parse_config(text, "fuzz.yaml");
  if (!config && config.message().empty()) __builtin_trap();
  return 0;
}
