#include "byte_mutator.hpp"

#include <algorithm>
#include <array>

namespace zeq::fuzz {

namespace {

// Boundary values parsers get wrong: zero, sign bits, all ones.
constexpr std::array<uint8_t, 8> INTERESTING_BYTES{0x00, 0x01, 0x04, 0x06, 0x7f, 0x80, 0xfe, 0xff};
// Characters that change the structure of JSON and YAML text.
constexpr char STRUCTURAL[] = "{}[]\":,-#&*!|>'\n \t\\0123456789.e\x00";

}  // namespace

Bytes ByteMutator::mutate(const Bytes& input, const Bytes& other) {
  Bytes b = input;
  size_t edits = 1 + pick(4);
  for (size_t i = 0; i < edits; ++i) edit(b, other);
  if (b.size() > max_size_) b.resize(max_size_);
  return b;
}

void ByteMutator::edit(Bytes& b, const Bytes& other) {
  switch (pick(10)) {
    case 0:  // flip a bit
      if (!b.empty()) b[pick(b.size())] ^= uint8_t(1u << pick(8));
      break;
    case 1:  // any byte value
      if (!b.empty()) b[pick(b.size())] = uint8_t(rng_());
      break;
    case 2:  // a boundary value
      if (!b.empty()) b[pick(b.size())] = INTERESTING_BYTES[pick(INTERESTING_BYTES.size())];
      break;
    case 3:  // a big-endian 16- or 32-bit boundary value (lengths, counts, indices)
      if (b.size() >= 4) {
        size_t at = pick(b.size() - 3);
        uint32_t values[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, uint32_t(b.size()), uint32_t(b.size() + 1)};
        uint32_t v = values[pick(std::size(values))];
        if (pick(2)) {
          b[at] = uint8_t(v >> 8), b[at + 1] = uint8_t(v);
        } else {
          store_be32(b.data() + at, v);
        }
      }
      break;
    case 4:  // insert random bytes
      if (b.size() < max_size_) {
        size_t n = 1 + pick(8);
        Bytes ins(n);
        for (auto& x : ins) x = uint8_t(rng_());
        b.insert(b.begin() + long(pick(b.size() + 1)), ins.begin(), ins.end());
      }
      break;
    case 5:  // erase a range
      if (!b.empty()) {
        size_t at = pick(b.size());
        size_t n = 1 + pick(std::min<size_t>(b.size() - at, 16));
        b.erase(b.begin() + long(at), b.begin() + long(at + n));
      }
      break;
    case 6:  // copy a range over another place in the same input
      if (b.size() >= 2) {
        size_t from = pick(b.size()), to = pick(b.size());
        size_t n = 1 + pick(std::min(b.size() - from, b.size() - to));
        std::copy_n(Bytes(b.begin() + long(from), b.begin() + long(from + n)).begin(), n, b.begin() + long(to));
      }
      break;
    case 7:  // splice: our head, the other input's tail
      if (!other.empty()) {
        size_t cut = pick(b.size() + 1), from = pick(other.size());
        b.resize(cut);
        b.insert(b.end(), other.begin() + long(from), other.end());
      }
      break;
    case 8:  // truncate
      b.resize(pick(b.size() + 1));
      break;
    default:  // a structural character of the text formats
      b.insert(b.begin() + long(pick(b.size() + 1)), uint8_t(STRUCTURAL[pick(sizeof STRUCTURAL - 1)]));
      break;
  }
}

}  // namespace zeq::fuzz
