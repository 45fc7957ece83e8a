// Zeq Auth equation identities (PROTOCOL.md section 2): the shared vectors
// (tests/data/zeqauth-vectors.json), the grammar's corners, the refusals and
// where they point, JavaScript's number formatting and Math semantics, and
// the `zeqvpnctl zeqauth zid` / `genkey --equation` commands.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <regex>
#include <string>

#include "core/bytes.hpp"
#include "crypto/encoding.hpp"
#include "identity/equation.hpp"
#include "identity/equation_identity.hpp"
#include "identity/js_number.hpp"
#include "test_data.hpp"

namespace zeq {
namespace {

double value_of(const std::string& equation) {
  auto r = evaluate_equation(equation);
  EXPECT_TRUE(r) << equation << ": " << r.message();
  return r ? *r : std::nan("");
}

std::string refusal(const std::string& equation) {
  auto r = evaluate_equation(equation);
  EXPECT_FALSE(r) << equation << " was accepted as " << (r ? js_number_to_string(*r) : "");
  return r ? "" : r.message();
}

std::string nested(int depth, const std::string& open, const std::string& inside) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  s += inside;
  return s + std::string(size_t(depth), ')');
}

TEST(JsNumber, WritesWhatJavaScriptWrites) {
  EXPECT_EQ(js_number_to_string(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(js_number_to_string(1e21), "1e+21");
  EXPECT_EQ(js_number_to_string(123e-20), "1.23e-18");
  EXPECT_EQ(js_number_to_string(1e-7), "1e-7");
  EXPECT_EQ(js_number_to_string(0.000001), "0.000001");
  EXPECT_EQ(js_number_to_string(5e-324), "5e-324");
  EXPECT_EQ(js_number_to_string(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(js_number_to_string(100), "100");
  EXPECT_EQ(js_number_to_string(1e20), "100000000000000000000");
  EXPECT_EQ(js_number_to_string(-1.5), "-1.5");
  EXPECT_EQ(js_number_to_string(-0.0), "0");
  EXPECT_EQ(js_number_to_string(0.0), "0");
  EXPECT_EQ(js_number_to_string(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(js_number_to_string(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(js_number_to_string(1.5e-7), "1.5e-7");
  EXPECT_EQ(js_number_to_string(-1e-7), "-1e-7");
  EXPECT_EQ(js_number_to_string(0.0000015), "0.0000015");
  EXPECT_EQ(js_number_to_string(1.2e21), "1.2e+21");
  EXPECT_EQ(js_number_to_string(9007199254740993.0), "9007199254740992");
  EXPECT_EQ(js_number_to_string(2.2250738585072014e-308), "2.2250738585072014e-308");
  EXPECT_EQ(js_number_to_string(std::nan("")), "NaN");
  EXPECT_EQ(js_number_to_string(HUGE_VAL), "Infinity");
  EXPECT_EQ(js_number_to_string(-HUGE_VAL), "-Infinity");
}

TEST(JsMath, PowerFollowsJavaScriptNotC) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(js_pow(1, nan)));  // C's pow gives 1
  EXPECT_TRUE(std::isnan(js_pow(1, HUGE_VAL)));
  EXPECT_TRUE(std::isnan(js_pow(-1, -HUGE_VAL)));
  EXPECT_EQ(js_pow(nan, 0), 1);
  EXPECT_TRUE(std::isnan(js_pow(-8, 1.0 / 3)));
  EXPECT_EQ(js_pow(0.5, HUGE_VAL), 0);
  EXPECT_TRUE(std::signbit(js_pow(-0.0, 3)));
  EXPECT_EQ(js_pow(2, 10), 1024);
}

TEST(JsMath, RoundAndSign) {
  EXPECT_EQ(js_round(2.5), 3);
  EXPECT_EQ(js_round(-2.5), -2);
  EXPECT_EQ(js_round(0.49999999999999994), 0);
  EXPECT_EQ(js_round(4503599627370495.5), 4503599627370496.0);
  EXPECT_TRUE(std::signbit(js_round(-0.4)));
  EXPECT_TRUE(std::signbit(js_round(-0.5)));
  EXPECT_FALSE(std::signbit(js_round(0.4)));
  EXPECT_EQ(js_round(-1e300), -1e300);
  EXPECT_TRUE(std::signbit(js_sign(-0.0)));
  EXPECT_EQ(js_sign(-0.0), 0);
  EXPECT_TRUE(std::isnan(js_sign(std::nan(""))));
  EXPECT_EQ(js_sign(-1e-300), -1);
  EXPECT_EQ(js_sign(7), 1);
}

TEST(ZeqAuthVectors, EveryOkEquationGivesItsResultHashZidAndColour) {
  auto vectors = test::load_json("zeqauth-vectors.json");
  ASSERT_EQ(vectors["ok"].size(), 48u);
  for (const auto& v : vectors["ok"]) {
    const std::string equation = v["equation"];
    auto id = equation_identity(equation);
    ASSERT_TRUE(id) << equation << ": " << id.message();
    EXPECT_EQ(id->result, v["result"]) << equation;
    EXPECT_EQ(to_hex(id->hash.span()), v["hash"]) << equation;
    EXPECT_EQ(id->zid, v["zid"]) << equation;
    EXPECT_EQ(id->colour, v["color"]) << equation;
  }
}

TEST(ZeqAuthVectors, KeysWhereGiven) {
  auto vectors = test::load_json("zeqauth-vectors.json");
  int keys = 0;
  for (const auto& v : vectors["ok"]) {
    if (!v.contains("private_key")) continue;
    ++keys;
    auto id = equation_identity(v["equation"].get<std::string>());
    ASSERT_TRUE(id);
    auto kp = equation_keypair(*id);
    ASSERT_TRUE(kp) << kp.message();
    EXPECT_EQ(base64_encode(kp->private_key.span()), v["private_key"]) << v["equation"];
    EXPECT_EQ(base64_encode(kp->public_key), v["public_key"]) << v["equation"];
    EXPECT_EQ(kp->private_key[0] & 7, 0);  // clamped
    EXPECT_EQ(kp->private_key[31] & 0xC0, 0x40);
  }
  EXPECT_EQ(keys, 3);
}

TEST(ZeqAuthVectors, EveryBadEquationIsRefusedSayingWhere) {
  auto vectors = test::load_json("zeqauth-vectors.json");
  ASSERT_EQ(vectors["bad"].size(), 24u);
  const std::regex where("^equation: .+ at character [0-9]+(; .+)?$");
  for (const auto& v : vectors["bad"]) {
    const std::string equation = v["equation"];
    auto id = equation_identity(equation);
    ASSERT_FALSE(id) << "'" << equation << "' was accepted";
    EXPECT_TRUE(std::regex_match(id.message(), where)) << id.message();
  }
}

TEST(Equation, PrecedenceAndAssociativity) {
  EXPECT_EQ(value_of("-2^2"), 4);  // unary minus binds tighter than ^
  EXPECT_EQ(value_of("2^3^2"), 512);  // right-associative
  EXPECT_EQ(value_of("2^-2"), 0.25);
  EXPECT_EQ(value_of("2^-2^2"), 16);  // 2^((-2)^2)
  EXPECT_EQ(value_of("-x^2"), value_of("x^2"));
  EXPECT_EQ(value_of("1+2*3"), 7);
  EXPECT_EQ(value_of("8/4/2"), 1);
  EXPECT_EQ(value_of("8-4-2"), 2);
  EXPECT_EQ(value_of("2*3^2"), 18);
  EXPECT_EQ(value_of("--+-3"), -3);
  EXPECT_EQ(value_of("(1+2)*3"), 9);
}

TEST(Equation, FunctionsAndNames) {
  EXPECT_EQ(value_of("round(-2.5)"), -2);
  EXPECT_EQ(value_of("round(2.5)"), 3);
  EXPECT_EQ(value_of("x"), 1.287);
  EXPECT_EQ(value_of("y"), 0.777);
  EXPECT_EQ(value_of("phi"), (1 + std::sqrt(5.0)) / 2);
  EXPECT_EQ(value_of("ln(e)"), 1);
  EXPECT_EQ(value_of("log(e)"), 1);
  EXPECT_EQ(value_of("sign(-0)"), 0);
  EXPECT_EQ(value_of("abs(-3)"), 3);
  EXPECT_EQ(value_of("floor(-0.5)"), -1);
  EXPECT_EQ(value_of("ceil(-0.5)"), 0);
  EXPECT_EQ(value_of("atan(10^400)"), std::atan(HUGE_VAL));  // only the final result must be finite
  EXPECT_EQ(value_of("1/10^400"), 0);
}

TEST(Equation, NumbersAndSpacing) {
  EXPECT_EQ(value_of(".5"), 0.5);
  EXPECT_EQ(value_of("5."), 5);
  EXPECT_EQ(value_of("007"), 7);
  EXPECT_EQ(value_of("\t1 +\t2  "), 3);
  EXPECT_EQ(value_of("sin (0)"), 0);
  // Digits beyond a double's range read as JavaScript reads them.
  EXPECT_EQ(value_of("0." + std::string(400, '0') + "1+1"), 1);
  EXPECT_EQ(value_of("atan(1" + std::string(400, '0') + ")"), std::atan(HUGE_VAL));
}

TEST(Equation, RefusalsSayWhereAndWhy) {
  EXPECT_EQ(refusal("x + foo"),
            "equation: unknown name 'foo' at character 5; names are x, y, pi, e, phi and the functions sin, cos, tan, "
            "asin, acos, atan, sqrt, abs, exp, floor, ceil, sign, log, ln, log10, round (names are case-sensitive)");
  EXPECT_EQ(refusal("1e5"), "equation: exponent in a number at character 2; numbers have no exponent, write "
                            "1*10^5 for 1e5 (or 2*e for 2 times e)");
  EXPECT_EQ(refusal("x/(y-y)"), "equation: division by zero at character 2; the divisor after this '/' is 0");
  EXPECT_EQ(refusal("1/-0"), "equation: division by zero at character 2; the divisor after this '/' is 0");
  EXPECT_EQ(refusal("(x"), "equation: unexpected end of the equation at character 3; expected ')' to close the '(' "
                           "at character 1");
  EXPECT_EQ(refusal("2*sqrt(-1)"), "equation: result is NaN (not a number), from 'sqrt' at character 3; an identity "
                                   "needs a finite value");
  EXPECT_EQ(refusal("1^(10^400)"), "equation: result is NaN (not a number), from '^' at character 6; an identity "
                                   "needs a finite value");  // JavaScript: 1 ** Infinity is NaN
  EXPECT_EQ(refusal("-log(0)"), "equation: result is Infinity, from 'log' at character 2; an identity needs a finite "
                                "value");
  EXPECT_EQ(refusal("PI"), refusal("PI"));
  EXPECT_NE(refusal("PI").find("unknown name 'PI' (did you mean 'pi'?) at character 1"), std::string::npos);
  EXPECT_NE(refusal("x(2)").find("'x' is not a function at character 1"), std::string::npos);
  EXPECT_NE(refusal("sin").find("function 'sin' without '(' at character 1"), std::string::npos);
  EXPECT_NE(refusal("2x").find("name right after a number at character 2"), std::string::npos);
  EXPECT_NE(refusal("1.2.3").find("a second '.' in a number at character 4"), std::string::npos);
  EXPECT_NE(refusal(".").find("unexpected character '.' at character 1"), std::string::npos);
  EXPECT_NE(refusal("1 2").find("unexpected number '2' at character 3"), std::string::npos);
  EXPECT_NE(refusal("\t").find("empty equation at character 2"), std::string::npos);
  // Characters, not bytes: the π is two bytes.
  EXPECT_NE(refusal("\xCF\x80+\x01").find("unexpected character 'π' (U+03C0) at character 1"), std::string::npos);
  EXPECT_NE(refusal("x+\x01").find("unexpected character byte 0x01 at character 3"), std::string::npos);
  EXPECT_NE(refusal("x\xFF").find("byte 0xFF at character 2"), std::string::npos);
  EXPECT_NE(refusal(std::string("x\0", 2)).find("byte 0x00 at character 2"), std::string::npos);
  EXPECT_NE(refusal("1" + std::string(400, '0')).find("result is Infinity, from the number at character 1"),
            std::string::npos);
}

TEST(Equation, LengthLimit) {
  std::string ok = "1" + std::string(MAX_EQUATION_CHARS - 1, ' ');
  EXPECT_EQ(value_of(ok), 1);
  EXPECT_EQ(refusal(ok + " "), "equation: too long at character 501; at most 500 characters, this one has 501");
}

TEST(Equation, NestingIsBoundedAndFailsCleanly) {
  EXPECT_EQ(refusal(std::string(500, '(')),
            "equation: nested too deeply at character 251; at most 250 parentheses or function calls inside one "
            "another");
  // The deepest nesting 500 characters allow (249) is accepted, as the grammar says.
  EXPECT_EQ(value_of(nested(249, "(", "x")), 1.287);
  // Function calls count too.
  EXPECT_EQ(value_of(nested(62, "abs(", nested(62, "(", "-x"))), 1.287);
  // Deeper than that does not fit in 500 characters: the length refuses it first.
  EXPECT_NE(refusal(nested(126, "abs(", "x")).find("too long"), std::string::npos);
}

TEST(Equation, LongChainsNeedNoRecursion) {
  // Signs and powers are read in loops: 499 signs or 250 carets are fine.
  EXPECT_EQ(value_of(std::string(499, '-') + "1"), -1);
  std::string carets = "1";
  while (carets.size() + 2 <= MAX_EQUATION_CHARS) carets += "^1";
  EXPECT_EQ(value_of(carets), 1);
  std::string sums = "1";
  while (sums.size() + 2 <= MAX_EQUATION_CHARS) sums += "+1";
  EXPECT_EQ(value_of(sums), 250);
}

TEST(EquationIdentity, TheEquationIsTakenExactlyAsGiven) {
  auto a = equation_identity("x");
  auto b = equation_identity(" x");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->result, b->result);
  EXPECT_NE(a->zid, b->zid);
  EXPECT_EQ(a->zid.substr(4, 6), a->colour.substr(1));
}

#ifdef ZEQVPNCTL
// `zeqvpnctl ARGS` run through the shell with `input` on stdin: its exit code
// and what it printed on stdout (and stderr unless told not to).
struct Run {
  int code = -1;
  std::string out;
};
Run run_ctl(const std::string& args, const std::string& input, bool with_stderr = true) {
  std::string cmd = "printf '%s' '" + input + "' | " ZEQVPNCTL " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(ZeqAuthCommand, ZidReadsTheEquationFromStdin) {
  auto r = run_ctl("zeqauth zid", "x^2 + sin(y*pi) + phi\n");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "zid     zeq-f9f5c58e8f0d\ncolour  #f9f5c5\nresult  3.919060477377486\n");
  EXPECT_EQ(run_ctl("zeqauth zid", "x").out, "zid     zeq-23468e8979b5\ncolour  #23468e\nresult  1.287\n");
}

TEST(ZeqAuthCommand, RefusesTheEquationAsAnArgument) {
  auto r = run_ctl("zeqauth zid 'x^2'", "x\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("never from the command line"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("x^2"), std::string::npos) << "the refusal repeats the equation: " << r.out;
  EXPECT_EQ(run_ctl("genkey --equation 'x^2'", "x\n").code, 2);
}

TEST(ZeqAuthCommand, RefusalsAreOneLine) {
  auto r = run_ctl("zeqauth zid", "x + foo\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out.rfind("zeqvpnctl: equation: unknown name 'foo' at character 5; names are", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1);
  EXPECT_EQ(run_ctl("zeqauth zid", "x\ny\n").code, 1);
}

TEST(ZeqAuthCommand, GenkeyFromAnEquationGivesTheVectorsKeys) {
  auto vectors = test::load_json("zeqauth-vectors.json");
  for (const auto& v : vectors["ok"]) {
    if (v["equation"] != "10^-7") continue;
    auto key = run_ctl("genkey --equation", "10^-7\n", false);
    EXPECT_EQ(key.code, 0);
    EXPECT_EQ(key.out, v["private_key"].get<std::string>() + "\n");
    EXPECT_EQ(run_ctl("pubkey", key.out).out, v["public_key"].get<std::string>() + "\n");
    return;
  }
  FAIL() << "no vector 10^-7";
}
#endif

}  // namespace
}  // namespace zeq
