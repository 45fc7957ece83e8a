// A double written the way JavaScript's Number#toString writes it (radix
// 10), which Zeq Auth hashes: the shortest digits that read back as the same
// double, plain notation for 1e-6 <= |v| < 1e21, otherwise d.ddde+N or
// d.ddde-N; -0 is "0", and NaN and the infinities are "NaN", "Infinity",
// "-Infinity". Pure code.
#pragma once

#include <string>

namespace zeq {

// ECMAScript Number::toString(v) for radix 10.
std::string js_number_to_string(double v);

}  // namespace zeq
