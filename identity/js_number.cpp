#include "identity/js_number.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace zeq {

namespace {

// The shortest round-trip digits of a finite v > 0 and its decimal point
// position n, as ECMAScript names them: v = 0.DIGITS x 10^n.
struct ShortestDigits {
  std::string digits;
  int n = 0;
};

ShortestDigits shortest_digits(double v) {
  // Scientific form with no precision is the shortest round-trip form
  // ("1.2345e+02"); at most 24 characters for a double.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view text(buf, ec == std::errc() ? size_t(end - buf) : 0);
  ShortestDigits out;
  size_t e = text.find('e');
  for (char c : text.substr(0, e)) {
    if (c != '.') out.digits += c;
  }
  int exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view exp = text.substr(e + 1);
    if (!exp.empty() && exp.front() == '+') exp.remove_prefix(1);
    std::from_chars(exp.data(), exp.data() + exp.size(), exponent);
  }
  out.n = exponent + 1;
  return out;
}

}  // namespace

std::string js_number_to_string(double v) {
  if (std::isnan(v)) return "NaN";
  if (v == 0) return "0";  // both +0 and -0
  const std::string sign = v < 0 ? "-" : "";
  v = std::fabs(v);
  if (std::isinf(v)) return sign + "Infinity";

  // v = DIGITS x 10^(n-k), the layout of ECMAScript Number::toString.
  auto [digits, n] = shortest_digits(v);
  const int k = int(digits.size());
  if (k <= n && n <= 21) return sign + digits + std::string(size_t(n - k), '0');
  if (0 < n && n <= 21) return sign + digits.substr(0, size_t(n)) + "." + digits.substr(size_t(n));
  if (-6 < n && n <= 0) return sign + "0." + std::string(size_t(-n), '0') + digits;
  const std::string exponent = (n - 1 < 0 ? "e-" : "e+") + std::to_string(std::abs(n - 1));
  if (k == 1) return sign + digits + exponent;
  return sign + digits.substr(0, 1) + "." + digits.substr(1) + exponent;
}

}  // namespace zeq
