// One table per enum of its values and their names (as the configuration
// file, status output and metrics spell them), so parsing, printing and the
// "expected one of ..." list of an error all come from the same place.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace zeq {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

template <typename E, size_t N>
constexpr const char* name_in(const std::array<EnumName<E>, N>& table, E value) {
  for (const auto& entry : table)
    if (entry.value == value) return entry.name;
  return "unknown";
}

template <typename E, size_t N>
constexpr std::optional<E> value_in(const std::array<EnumName<E>, N>& table, std::string_view name) {
  for (const auto& entry : table)
    if (name == entry.name) return entry.value;
  return std::nullopt;
}

// "off, on_drop, always": the valid names, for error messages.
template <typename E, size_t N>
std::string names_in(const std::array<EnumName<E>, N>& table) {
  std::string out;
  for (const auto& entry : table) out += (out.empty() ? "" : ", ") + std::string(entry.name);
  return out;
}

}  // namespace zeq
