// Loads the shared test vectors (copied from shared/testdata into tests/data).
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/bytes.hpp"

namespace zeq::test {

inline nlohmann::json load_json(const std::string& name) {
  std::ifstream in(std::string(ZEQ_TESTDATA_DIR) + "/" + name);
  return nlohmann::json::parse(in);
}

inline Bytes hex(const std::string& s) { return *from_hex(s); }

template <size_t N>
std::array<uint8_t, N> hex_array(const std::string& s) {
  auto b = hex(s);
  std::array<uint8_t, N> a{};
  std::copy_n(b.begin(), N, a.begin());
  return a;
}

}  // namespace zeq::test
