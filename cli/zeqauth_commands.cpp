#include "cli/zeqauth_commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"
#include "crypto/x25519.hpp"
#include "identity/equation_identity.hpp"
#include "identity/key_file.hpp"

namespace zeq::ctl {

namespace {

// zeqvpnctl's exit codes (docs/control.md).
constexpr int kFailed = 1;
constexpr int kUsage = 2;
// Read at most this much; an equation has at most 500 characters.
constexpr size_t kMaxInput = 4096;

// The one piece of mutable static state: which signal arrived while the
// terminal was not echoing (a signal handler can reach nothing else).
volatile std::sig_atomic_t caught_signal = 0;
void note_signal(int sig) { caught_signal = sig; }

// Wipes the text of a secret before it is dropped (its capacity was
// reserved up front, so no other copy was left by growing it).
void wipe(std::string& s) {
  secure_wipe(s.data(), s.size());
  s.clear();
}

[[noreturn]] void fail(int code, const std::string& message) {
  std::fprintf(stderr, "zeqvpnctl: %s\n", message.c_str());
  std::exit(code);
}

// One line from the terminal on fd 0 with echo off. The terminal is put back
// on every way out; Ctrl-C (and SIGTERM, SIGHUP, SIGQUIT) is held until it
// is, then delivered as usual.
Result<std::string> read_from_terminal(const char* prompt) {
  termios normal{};
  if (tcgetattr(STDIN_FILENO, &normal) != 0) return Status::error("stdin: cannot read the terminal's settings");
  termios quiet = normal;
  quiet.c_lflag &= ~tcflag_t(ECHO);
  quiet.c_lflag |= ECHONL;  // still show the newline that ends the line

  const std::array<int, 4> signals{SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  std::array<struct sigaction, 4> saved{};
  struct sigaction hold{};
  hold.sa_handler = note_signal;  // no SA_RESTART: read() returns early
  sigemptyset(&hold.sa_mask);
  caught_signal = 0;
  for (size_t i = 0; i < signals.size(); ++i) sigaction(signals[i], &hold, &saved[i]);

  std::fputs(prompt, stderr);
  std::fflush(stderr);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::string line;
  line.reserve(kMaxInput);  // never reallocated, so never copied; also kept off the stack (no small-string buffer)
  bool too_long = false;
  for (char c = 0; caught_signal == 0;) {
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    if (line.size() < kMaxInput) {
      line.push_back(c);
    } else {
      too_long = true;
    }
  }
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &normal);
  for (size_t i = 0; i < signals.size(); ++i) sigaction(signals[i], &saved[i], nullptr);
  if (caught_signal != 0) {
    wipe(line);
    std::fputc('\n', stderr);
    std::raise(caught_signal);  // its own action is back: this normally ends the process
    return Status::error("stdin: interrupted");
  }
  if (too_long) {
    wipe(line);
    return Status::error("equation: too long; at most 500 characters");
  }
  return line;
}

// All of stdin, which must be one line (its newline, and a \r before it, are
// not part of the equation).
Result<std::string> read_one_line_from_stdin() {
  std::string text;
  text.reserve(kMaxInput + 1);
  std::array<char, 512> chunk{};
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(chunk.data(), std::min(size_t(n), kMaxInput + 1 - text.size()));
    if (text.size() > kMaxInput) break;
  }
  secure_wipe(chunk.data(), chunk.size());
  if (text.size() > kMaxInput) {
    wipe(text);
    return Status::error("stdin: more than " + std::to_string(kMaxInput) +
                         " bytes; an equation has at most 500 characters");
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.find('\n') != std::string::npos) {
    wipe(text);
    return Status::error("stdin: more than one line; give the equation alone on one line");
  }
  return text;
}

// The equation, from the terminal or stdin; the caller wipes it.
std::string read_equation(const char* command) {
  auto text = isatty(STDIN_FILENO) ? read_from_terminal("equation (not shown): ") : read_one_line_from_stdin();
  if (!text) fail(kFailed, std::string(command) + ": " + text.message());
  return std::move(text).value();
}

// Extra words after a command that reads an equation: refused without
// repeating them, since they may be the equation itself.
void refuse_arguments(const CLI::App& sub, const char* command) {
  if (!sub.remaining().empty())
    fail(kUsage, std::string(command) + ": takes no arguments; the equation is read from the terminal (not shown) or "
                     "one line of stdin, never from the command line, where shell history and ps would keep it");
}

// The equation's identity, or its refusal as one line (exit 1).
EquationIdentity identity_of(std::string& equation) {
  auto id = equation_identity(equation);
  wipe(equation);
  if (!id) fail(kFailed, id.message());
  return std::move(id).value();
}

void print_equation_key(const CLI::App& sub) {
  refuse_arguments(sub, "genkey --equation");
  std::string equation = read_equation("genkey --equation");
  const EquationIdentity id = identity_of(equation);
  auto kp = equation_keypair(id);
  if (!kp) fail(kFailed, "genkey --equation: " + kp.message());
  std::string text = encode_key(kp->private_key.span());
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
  wipe(text);
  std::fprintf(stderr, "zeqvpnctl: the private key of equation identity %s (colour %s); keep it with mode 0600\n",
               id.zid.c_str(), id.colour.c_str());
}

void print_equation_zid(const CLI::App& sub) {
  refuse_arguments(sub, "zeqauth zid");
  std::string equation = read_equation("zeqauth zid");
  const EquationIdentity id = identity_of(equation);
  std::printf("zid     %s\ncolour  %s\nresult  %s\n", id.zid.c_str(), id.colour.c_str(), id.result.c_str());
}

}  // namespace

void add_zeqauth_commands(CLI::App& app) {
  auto* genkey = app.add_subcommand("genkey", "print a new private key (base64); keep it with mode 0600");
  const std::string equation_help =
      "the key of a Zeq Auth equation identity instead, the equation read from the terminal (not shown) or one line "
      "of stdin";
  auto* from_equation = genkey->add_flag("--equation", equation_help);
  genkey->allow_extras();
  genkey->callback([genkey, from_equation] {
    if (*from_equation) return print_equation_key(*genkey);
    if (!genkey->remaining().empty()) throw CLI::ExtrasError(genkey->remaining());  // as before --equation existed
    auto kp = x25519_generate();
    std::printf("%s\n", encode_key(kp.private_key.span()).c_str());
  });

  auto* zeqauth = app.add_subcommand("zeqauth", "Zeq Auth equation identities");
  zeqauth->require_subcommand(1);
  auto* zid = zeqauth->add_subcommand(
      "zid", "read an equation from the terminal (not shown) or one line of stdin; print its ZID, colour and value");
  zid->allow_extras();
  zid->callback([zid] { print_equation_zid(*zid); });
}

}  // namespace zeq::ctl
