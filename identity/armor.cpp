// Text armour (identity/certificate.hpp): certificates, CA keys and
// revocation lists as PEM-like text blocks in files. The base64 goes
// through crypto/encoding.hpp's constant-time codec straight into the
// output, so the armour of a CA seed leaves no stray copy in freed memory.
#include <algorithm>
#include <array>

#include "crypto/encoding.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/certificate.hpp"
#include "identity/certificate_rules.hpp"

namespace zeq {

namespace {

constexpr size_t LINE_CHARS = 64;
constexpr size_t LINE_BYTES = LINE_CHARS / 4 * 3;

std::string begin_line(std::string_view kind) { return "-----BEGIN ZEQVPN " + std::string(kind) + "-----"; }
std::string end_line(std::string_view kind) { return "-----END ZEQVPN " + std::string(kind) + "-----"; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// One line of the text, 1-based number, without its newline.
struct Line {
  size_t number;
  std::string_view text;
};

// The line's problem as base64 of a block (empty when none); last: the
// block's final line, the only one that may be short or padded.
std::string base64_line_problem(std::string_view s, bool last) {
  if (s.empty()) return "an empty line inside the block";
  if (s.size() > LINE_CHARS || (!last && s.size() != LINE_CHARS))
    return std::to_string(s.size()) + " characters; every line but the last holds 64";
  if (s.size() % 4 != 0) return std::to_string(s.size()) + " characters, not a multiple of 4 (a character lost?)";
  size_t padding = s.size() - s.find_last_not_of('=') - 1;
  if (s.find_last_not_of('=') == std::string_view::npos) padding = s.size();
  if (padding > 2 || (padding > 0 && !last)) return "'=' padding where none may be";
  for (size_t i = 0; i < s.size() - padding; ++i)
    if (!is_base64_char(s[i])) return quoted(s.substr(i, 1)) + " at column " + std::to_string(i + 1) + " is not base64";
  return "";
}

size_t decoded_size(std::string_view s) {
  size_t padding = 0;
  while (padding < s.size() && s[s.size() - 1 - padding] == '=') ++padding;
  return s.size() / 4 * 3 - padding;
}

}  // namespace

std::string armor(std::string_view kind, ByteSpan bytes) {
  std::string begin = begin_line(kind), end = end_line(kind);
  size_t lines = (bytes.size() + LINE_BYTES - 1) / LINE_BYTES;
  std::string out;
  // One allocation of the final size: a CA seed's armour is never copied by
  // a growing string.
  out.reserve(begin.size() + end.size() + 2 + base64_encoded_length(bytes.size()) + lines);
  out += begin;
  out += '\n';
  std::array<char, LINE_CHARS + 1> line{};
  for (size_t at = 0; at < bytes.size(); at += LINE_BYTES) {
    ByteSpan chunk = bytes.subspan(at, std::min(LINE_BYTES, bytes.size() - at));
    if (!base64_encode_to(chunk, line)) break;  // cannot happen: the line holds 64 + NUL
    out.append(line.data(), base64_encoded_length(chunk.size()));
    out += '\n';
  }
  secure_wipe(line.data(), line.size());
  out += end;
  out += '\n';
  return out;
}

Result<Bytes> dearmor(std::string_view kind, std::string_view text) {
  const std::string begin = begin_line(kind), end = end_line(kind);
  std::vector<Line> body;
  size_t begin_number = 0, number = 0;
  bool ended = false;
  std::string other_kind;
  for (size_t pos = 0; pos < text.size() && !ended;) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++number;
    if (begin_number == 0) {
      if (line == begin) begin_number = number;
      else if (other_kind.empty() && line.starts_with("-----BEGIN ZEQVPN ")) other_kind = std::string(line.substr(5));
      continue;
    }
    if (line == end) {
      ended = true;
    } else if (line.starts_with("-----")) {
      return Status::error("line " + std::to_string(number) + ": " + quoted(line) + " inside the ZEQVPN " +
                           std::string(kind) + " block of line " + std::to_string(begin_number) + "; expected " +
                           end);
    } else {
      body.push_back({number, line});
    }
  }
  if (begin_number == 0)
    return Status::error("no " + begin + " line" +
                         (other_kind.empty() ? std::string() : " (there is a " + other_kind + " block instead)") +
                         "; give a file with a ZEQVPN " + std::string(kind));
  if (!ended)
    return Status::error("line " + std::to_string(number) + ": the ZEQVPN " + std::string(kind) + " block of line " +
                         std::to_string(begin_number) + " has no " + end + " line (the text is cut short)");
  if (body.empty())
    return Status::error("line " + std::to_string(begin_number + 1) + ": the ZEQVPN " + std::string(kind) +
                         " block is empty");
  size_t total = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    if (auto p = base64_line_problem(body[i].text, i + 1 == body.size()); !p.empty())
      return Status::error("line " + std::to_string(body[i].number) + ": " + p);
    total += decoded_size(body[i].text);
  }
  // Sized once and decoded into place: a CA seed is never copied around.
  Bytes out(total);
  size_t at = 0;
  for (const auto& l : body) {
    size_t n = decoded_size(l.text);
    if (!base64_decode_exact(l.text, MutableByteSpan(out.data() + at, n))) {
      secure_wipe(out.data(), out.size());
      return Status::error("line " + std::to_string(l.number) + ": not valid base64 (its last characters carry bits "
                                                                "that no encoder writes)");
    }
    at += n;
  }
  return out;
}

}  // namespace zeq
