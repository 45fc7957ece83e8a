// Small text rules shared by the certificate, revocation list and armour
// code of identity/ (not part of the module's interface).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zeq {

// A name's or group's characters: A-Z a-z 0-9 . _ -
constexpr bool is_label_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// Empty when s is 1..max label characters; otherwise what is wrong, with
// the value quoted.
std::string label_problem(std::string_view s, size_t max);

// s in double quotes for an error message, bytes that are not printable
// ASCII as \xNN, cut at 80 characters (a value from a file may be anything).
std::string quoted(std::string_view s);

}  // namespace zeq
