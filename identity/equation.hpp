// Zeq Auth equations (PROTOCOL.md section 2): the safe evaluator behind
// equation identities. A tokenizer, a recursive-descent parser whose only
// recursion (parentheses and function arguments) is bounded by
// MAX_EQUATION_NESTING, and an evaluator with JavaScript `Math` semantics on
// IEEE doubles, run as the parser goes (no tree, no eval). Pure code, no I/O,
// nothing thrown.
//
// A refusal is one line saying why and where: "<why> at character N[; hint]",
// N counted from 1 in characters (UTF-8 code points) of the equation as given.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/result.hpp"

namespace zeq {

// Longer equations are refused (bytes; every valid equation is ASCII).
inline constexpr size_t MAX_EQUATION_CHARS = 500;
// Deeper nesting of parentheses and function calls is refused.
// Deeper than any equation within the length limit can nest (249), so the
// bound refuses nothing the grammar accepts; it only keeps the recursion finite.
inline constexpr int MAX_EQUATION_NESTING = 250;

// The value of an equation (always finite), or why and where it is refused.
Result<double> evaluate_equation(std::string_view equation);

// JavaScript's `**` (ECMAScript Number::exponentiate): C's pow except that a
// NaN exponent gives NaN (C: pow(1, NaN) = 1) and so does (+-1)^(+-Infinity).
double js_pow(double base, double exponent);
// Math.round: the nearest integer, ties towards +Infinity; -0 for -0.5..-0.
double js_round(double v);
// Math.sign: -1, +1, or the argument itself for +-0 and NaN.
double js_sign(double v);

}  // namespace zeq
