// Fuzz target: a Zeq Auth equation, as `zeqvpnctl zeqauth zid` and
// `genkey --equation` hand it over (any bytes, up to and past the 500
// character limit): parse, evaluate, write the value as JavaScript would.
// A refusal must say where ("at character N"); a value must be finite and
// its text must read back as the same double.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "identity/equation.hpp"
#include "identity/js_number.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto value = zeq::evaluate_equation(text);
  if (!value) {
    if (value.message().find(" at character ") == std::string::npos) __builtin_trap();
    return 0;
  }
  if (!std::isfinite(*value)) __builtin_trap();
  const std::string written = zeq::js_number_to_string(*value);
  const double back = std::strtod(written.c_str(), nullptr);
  if (back != *value && !(back == 0 && *value == 0)) __builtin_trap();
  return 0;
}
