// Random edits of a byte string, for the fuzz targets' standalone driver
// (replay_main.cpp): the kinds libFuzzer makes (bit flips, byte and word
// values, inserts, erases, copies, splices with another input, structural
// characters for the text formats), driven by a seeded generator so a run is
// the same on every machine and a failure can be replayed by its seed.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

#include "core/bytes.hpp"

namespace zeq::fuzz {

class ByteMutator {
 public:
  ByteMutator(uint64_t seed, size_t max_size) : rng_(seed), max_size_(max_size) {}
  // One to four edits of `input`; `other` is the partner of a splice.
  Bytes mutate(const Bytes& input, const Bytes& other);
  size_t pick(size_t n) { return n == 0 ? 0 : size_t(rng_() % n); }

 private:
  void edit(Bytes& b, const Bytes& other);
  std::mt19937_64 rng_;
  size_t max_size_;
};

}  // namespace zeq::fuzz
