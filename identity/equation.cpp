#include "identity/equation.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include "core/constants.hpp"

namespace zeq {

double js_pow(double base, double exponent) {
  if (std::isnan(exponent)) return NAN;
  if (std::fabs(base) == 1 && std::isinf(exponent)) return NAN;
  return std::pow(base, exponent);
}

double js_round(double v) {
  if (!std::isfinite(v) || v == std::floor(v)) return v;  // integers keep their sign, -0 too
  double r = std::floor(v);
  if (v - r >= 0.5) r += 1;  // v - floor(v) is exact below 2^52, and above it v is an integer
  return r == 0 && v < 0 ? -0.0 : r;
}

double js_sign(double v) {
  if (std::isnan(v) || v == 0) return v;
  return v > 0 ? 1 : -1;
}

namespace {

struct NamedValue {
  std::string_view name;
  double value;
};
// x and y are the Zeq constants F_H and TAU_ZQ.
constexpr std::array<NamedValue, 5> kNames{{
    {"x", F_H}, {"y", TAU_ZQ}, {"pi", std::numbers::pi}, {"e", std::numbers::e}, {"phi", std::numbers::phi}}};

struct NamedFunction {
  std::string_view name;
  double (*apply)(double);
};
constexpr std::array<NamedFunction, 16> kFunctions{{
    {"sin", [](double v) { return std::sin(v); }},     {"cos", [](double v) { return std::cos(v); }},
    {"tan", [](double v) { return std::tan(v); }},     {"asin", [](double v) { return std::asin(v); }},
    {"acos", [](double v) { return std::acos(v); }},   {"atan", [](double v) { return std::atan(v); }},
    {"sqrt", [](double v) { return std::sqrt(v); }},   {"abs", [](double v) { return std::fabs(v); }},
    {"exp", [](double v) { return std::exp(v); }},     {"floor", [](double v) { return std::floor(v); }},
    {"ceil", [](double v) { return std::ceil(v); }},   {"sign", js_sign},
    {"log", [](double v) { return std::log(v); }},     {"ln", [](double v) { return std::log(v); }},
    {"log10", [](double v) { return std::log10(v); }}, {"round", js_round},
}};

constexpr const char* kVocabulary =
    "names are x, y, pi, e, phi and the functions sin, cos, tan, asin, acos, atan, sqrt, abs, exp, floor, ceil, "
    "sign, log, ln, log10, round (names are case-sensitive)";

enum class Tok { Number, Name, Plus, Minus, Star, Slash, Caret, LParen, RParen, End };

struct Token {
  Tok kind = Tok::End;
  size_t at = 0;  // byte offset into the equation
  std::string_view text;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// A value and, when it is not finite, where that first happened (so a NaN or
// infinite result can be traced to the operation that made it).
struct Value {
  double v = 0;
  size_t bad_at = 0;  // byte offset of that operation
  std::string_view bad_op;
};

// The tokenizer, the parser and the evaluator in one pass over the text.
class Evaluator {
 public:
  explicit Evaluator(std::string_view src) : src_(src) {}

  Result<double> run() {
    if (src_.size() > MAX_EQUATION_CHARS)
      return fail(MAX_EQUATION_CHARS, "too long",
                  "at most " + std::to_string(MAX_EQUATION_CHARS) + " characters, this one has " +
                      std::to_string(src_.size()));
    if (Status s = advance(); !s) return s;
    if (tok_.kind == Tok::End) return fail(tok_.at, "empty equation", "expected a number, a name or '('");
    auto value = expr();
    if (!value) return value.status();
    if (tok_.kind == Tok::RParen) return fail(tok_.at, "unexpected ')'", "no '(' to close");
    if (tok_.kind != Tok::End)
      return fail(tok_.at, "unexpected " + describe(tok_), "expected an operator (+ - * / ^) or the end");
    const Value& r = *value;
    if (std::isfinite(r.v)) return r.v;
    std::string what = std::isnan(r.v) ? "NaN (not a number)" : r.v > 0 ? "Infinity" : "-Infinity";
    const bool literal = !r.bad_op.empty() && (is_digit(r.bad_op.front()) || r.bad_op.front() == '.');
    const std::string from = literal ? "the number" : "'" + std::string(r.bad_op) + "'";
    return fail(r.bad_at, "result is " + what + ", from " + from, "an identity needs a finite value");
  }

 private:
  // "<why> at character N[; hint]"
  Status fail(size_t at, const std::string& why, const std::string& hint = "") const {
    return Status::error("equation: " + why + " at character " + std::to_string(character_of(at)) +
                         (hint.empty() ? "" : "; " + hint));
  }

  // 1-based character (UTF-8 code point) number of byte offset `at`.
  size_t character_of(size_t at) const {
    size_t character = 1;
    for (size_t i = 0; i < at && i < src_.size(); ++i) character += (uint8_t(src_[i]) & 0xC0) != 0x80;
    return character;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::End: return "end of the equation";
      case Tok::Number: return "number '" + std::string(t.text) + "'";
      case Tok::Name: return "name '" + std::string(t.text) + "'";
      default: return "'" + std::string(t.text) + "'";
    }
  }

  // The next token into tok_.
  Status advance() {
    while (pos_ < src_.size() && (src_[pos_] == ' ' || src_[pos_] == '\t')) ++pos_;
    const size_t start = pos_;
    if (pos_ == src_.size()) {
      tok_ = {Tok::End, start, {}};
      return Status::ok();
    }
    const char c = src_[pos_];
    if (is_digit(c) || (c == '.' && pos_ + 1 < src_.size() && is_digit(src_[pos_ + 1]))) return number(start);
    if (is_name_start(c)) {
      while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
      tok_ = {Tok::Name, start, src_.substr(start, pos_ - start)};
      return Status::ok();
    }
    static constexpr std::string_view kOps = "+-*/^()";
    static constexpr Tok kOpTokens[] = {Tok::Plus,  Tok::Minus,  Tok::Star,  Tok::Slash,
                                        Tok::Caret, Tok::LParen, Tok::RParen};
    if (size_t i = kOps.find(c); i != std::string_view::npos) {
      tok_ = {kOpTokens[i], start, src_.substr(start, 1)};
      ++pos_;
      return Status::ok();
    }
    return fail(start, "unexpected character " + quote_character(start),
                "an equation has numbers, names, + - * / ^, parentheses, spaces and tabs");
  }

  // NUMBER: [0-9]+(.[0-9]*)? or .[0-9]+, never directly followed by '.', a
  // letter, a digit or '_'.
  Status number(size_t start) {
    while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    if (pos_ < src_.size() && src_[pos_] == '.') {
      ++pos_;
      while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    }
    tok_ = {Tok::Number, start, src_.substr(start, pos_ - start)};
    if (pos_ < src_.size()) {
      const char next = src_[pos_];
      if (next == '.') return fail(pos_, "a second '.' in a number");
      if (next == 'e' || next == 'E')
        return fail(pos_, "exponent in a number",
                    "numbers have no exponent, write 1*10^5 for 1e5 (or 2*e for 2 times e)");
      if (is_name_char(next)) return fail(pos_, "name right after a number", "write 2*x for 2 times x");
    }
    return Status::ok();
  }

  // The character at `at` quoted for a message: printable ASCII as is, a
  // whole UTF-8 sequence with its code point, anything else as a byte.
  std::string quote_character(size_t at) const {
    const auto b = uint8_t(src_[at]);
    if (b >= 0x20 && b < 0x7F) return "'" + std::string(1, char(b)) + "'";
    size_t len = b >= 0xF0 && b < 0xF5 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
    if (b >= 0xF5) len = 0;
    uint32_t code = len == 4 ? b & 0x07 : len == 3 ? b & 0x0F : b & 0x1F;
    bool whole = len > 0 && at + len <= src_.size();
    for (size_t i = 1; whole && i < len; ++i) {
      const auto cont = uint8_t(src_[at + i]);
      whole = (cont & 0xC0) == 0x80;
      code = (code << 6) | (cont & 0x3F);
    }
    char buf[32];
    if (whole) {
      std::snprintf(buf, sizeof buf, " (U+%04X)", unsigned(code));
      return "'" + std::string(src_.substr(at, len)) + "'" + buf;
    }
    std::snprintf(buf, sizeof buf, "byte 0x%02X", unsigned(b));
    return buf;
  }

  // r made by operation `op` at `at` from the operands a (and b): where a
  // non-finite value first appeared is carried along.
  static Value made(double r, size_t at, std::string_view op, const Value& a, const Value* b = nullptr) {
    if (std::isfinite(r)) return {r, 0, {}};
    if (!a.bad_op.empty()) return {r, a.bad_at, a.bad_op};
    if (b && !b->bad_op.empty()) return {r, b->bad_at, b->bad_op};
    return {r, at, op};
  }

  // expr -> term (('+'|'-') term)*
  Result<Value> expr() {
    auto lhs = term();
    if (!lhs) return lhs;
    while (tok_.kind == Tok::Plus || tok_.kind == Tok::Minus) {
      const Token op = tok_;
      if (Status s = advance(); !s) return s;
      auto rhs = term();
      if (!rhs) return rhs;
      const double r = op.kind == Tok::Plus ? lhs->v + rhs->v : lhs->v - rhs->v;
      lhs = made(r, op.at, op.text, *lhs, &*rhs);
    }
    return lhs;
  }

  // term -> power (('*'|'/') power)*; a divisor of (+-)0 is refused.
  Result<Value> term() {
    auto lhs = power();
    if (!lhs) return lhs;
    while (tok_.kind == Tok::Star || tok_.kind == Tok::Slash) {
      const Token op = tok_;
      if (Status s = advance(); !s) return s;
      auto rhs = power();
      if (!rhs) return rhs;
      if (op.kind == Tok::Slash && rhs->v == 0)
        return fail(op.at, "division by zero", "the divisor after this '/' is 0");
      const double r = op.kind == Tok::Star ? lhs->v * rhs->v : lhs->v / rhs->v;
      lhs = made(r, op.at, op.text, *lhs, &*rhs);
    }
    return lhs;
  }

  // power -> unary ('^' power)?, right-associative: the operands are read in
  // a loop and folded from the right, so a^b^c is a^(b^c) without recursion.
  Result<Value> power() {
    std::vector<Value> operands;
    std::vector<size_t> carets;
    for (;;) {
      auto operand = unary();
      if (!operand) return operand;
      operands.push_back(*operand);
      if (tok_.kind != Tok::Caret) break;
      carets.push_back(tok_.at);
      if (Status s = advance(); !s) return s;
    }
    Value v = operands.back();
    for (size_t i = carets.size(); i-- > 0;) v = made(js_pow(operands[i].v, v.v), carets[i], "^", operands[i], &v);
    return v;
  }

  // unary -> ('+'|'-') unary | call, as a loop: the signs, then the operand.
  Result<Value> unary() {
    bool negate = false;
    while (tok_.kind == Tok::Plus || tok_.kind == Tok::Minus) {
      if (tok_.kind == Tok::Minus) negate = !negate;
      if (Status s = advance(); !s) return s;
    }
    auto operand = call();
    if (!operand) return operand;
    if (negate) operand->v = -operand->v;
    return operand;
  }

  // call -> IDENT '(' expr ')' | primary; primary -> NUMBER | IDENT | '(' expr ')'
  Result<Value> call() {
    const Token t = tok_;
    if (t.kind == Tok::Number) {
      if (Status s = advance(); !s) return s;
      return made(parse_number(t.text), t.at, t.text, Value{});
    }
    if (t.kind == Tok::LParen) {
      if (Status s = advance(); !s) return s;
      return inner(t);
    }
    if (t.kind != Tok::Name) return fail(t.at, "unexpected " + describe(t), "expected a number, a name or '('");
    if (Status s = advance(); !s) return s;
    const std::string name(t.text);
    const NamedFunction* f = find_function(t.text);
    const NamedValue* named = find_name(t.text);
    if (tok_.kind == Tok::LParen) {
      if (named) return fail(t.at, "'" + name + "' is not a function", "write " + name + "*(...)");
      if (!f) return fail(t.at, "unknown function '" + name + "'" + case_hint(t.text), kVocabulary);
      const Token open = tok_;
      if (Status s = advance(); !s) return s;
      auto arg = inner(open);
      if (!arg) return arg;
      return made(f->apply(arg->v), t.at, t.text, *arg);
    }
    if (f) return fail(t.at, "function '" + name + "' without '('", "write " + name + "(x)");
    if (!named) return fail(t.at, "unknown name '" + name + "'" + case_hint(t.text), kVocabulary);
    return Value{named->value, 0, {}};
  }

  // The expression after `open` ('(' just consumed) and its ')'; the one
  // place the parser recurses, so the nesting bound is kept here.
  Result<Value> inner(const Token& open) {
    if (depth_ == MAX_EQUATION_NESTING)
      return fail(open.at, "nested too deeply",
                  "at most " + std::to_string(MAX_EQUATION_NESTING) +
                      " parentheses or function calls inside one another");
    ++depth_;
    auto value = expr();
    --depth_;
    if (!value) return value;
    if (tok_.kind != Tok::RParen)
      return fail(tok_.at, "unexpected " + describe(tok_),
                  "expected ')' to close the '(' at character " + std::to_string(character_of(open.at)));
    if (Status s = advance(); !s) return s;
    return value;
  }

  // The token's digits as a double; a number too large is +Infinity and one
  // too small is 0, as JavaScript reads them.
  static double parse_number(std::string_view text) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
    (void)ptr;
    if (ec == std::errc::result_out_of_range) {
      const std::string_view whole = text.substr(0, text.find('.'));
      return whole.find_first_not_of('0') != std::string_view::npos ? HUGE_VAL : 0.0;
    }
    return v;
  }

  static const NamedFunction* find_function(std::string_view name) {
    for (const auto& f : kFunctions) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
  static const NamedValue* find_name(std::string_view name) {
    for (const auto& n : kNames) {
      if (n.name == name) return &n;
    }
    return nullptr;
  }
  // " (did you mean 'pi'?)" when the name is a known one in other case.
  static std::string case_hint(std::string_view name) {
    std::string lower(name);
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    if (lower == name || (!find_name(lower) && !find_function(lower))) return "";
    return " (did you mean '" + lower + "'?)";
  }

  std::string_view src_;
  size_t pos_ = 0;
  Token tok_;
  int depth_ = 0;
};

}  // namespace

Result<double> evaluate_equation(std::string_view equation) { return Evaluator(equation).run(); }

}  // namespace zeq
