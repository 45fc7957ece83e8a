// Fuzz target: the NAT traversal messages (protocol/nat_messages.hpp) as a
// node reads what a peer or relay sent: the input goes whole to every
// parser. Properties, trapped when broken:
//  - at most one parser takes an input;
//  - what a parser accepts is canonical: encoding what it read gives the
//    input back, followed only by zero padding;
//  - every endpoint read is usable (nat_endpoint_usable), a candidates list
//    holds at most NAT_MAX_CANDIDATES, none twice, and a NAT type in range.
// Seeds: corpus/nat_messages/, one of each message (the examples of
// docs/protocol.md "NAT traversal"), written by hand.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/bytes.hpp"
#include "protocol/nat_messages.hpp"

namespace {

using zeq::Bytes;
using zeq::ByteSpan;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void same_then_zeros(const Bytes& again, ByteSpan in) {
  check(again.size() <= in.size());
  check(std::equal(again.begin(), again.end(), in.begin()));
  check(std::all_of(in.begin() + long(again.size()), in.end(), [](uint8_t b) { return b == 0; }));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zeq;
  ByteSpan in(data, size);
  int taken = 0;
  if (auto m = parse_nat_observe(in)) {
    ++taken;
    same_then_zeros(encode_nat_observe(*m), in);
  }
  if (auto m = parse_nat_observed(in)) {
    ++taken;
    check(nat_endpoint_usable(m->seen));
    same_then_zeros(encode_nat_observed(*m), in);
  }
  if (auto m = parse_nat_candidates(in)) {
    ++taken;
    check(m->candidates.size() <= NAT_MAX_CANDIDATES);
    check(uint8_t(m->nat) <= NAT_TYPE_MAX);
    for (size_t i = 0; i < m->candidates.size(); ++i) {
      check(nat_endpoint_usable(m->candidates[i]));
      for (size_t j = 0; j < i; ++j) check(!(m->candidates[i] == m->candidates[j]));
    }
    same_then_zeros(encode_nat_candidates(*m), in);
  }
  if (auto m = parse_nat_probe(in)) {
    ++taken;
    same_then_zeros(encode_nat_probe(*m), in);
  }
  if (auto m = parse_nat_probe_reply(in)) {
    ++taken;
    check(nat_endpoint_usable(m->seen));
    same_then_zeros(encode_nat_probe_reply(*m), in);
  }
  check(taken <= 1);
  return 0;
}
