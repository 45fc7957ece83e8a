// Fuzz target: what `mesh join` and the enrollment service read from outside
// (protocol/enrollment_token.hpp, protocol/enrollment_messages.hpp). The
// first byte picks the parser, the rest is its input:
//  0  an invite token's text (decode_token): what it accepts encodes back
//     to the same text, whitespace around it aside;
//  1  the plaintext of a join answer (decode_answer): what it accepts
//     encodes back to the same bytes, refusals are printable one-liners;
//  2  a hello frame to a bootstrap node with a fixed key; when it is read,
//     the challenge is made and the same input read as the request: a
//     request nobody could seal never opens, and no answer leaves;
//  3  a challenge frame, then an answer frame, to a joiner with fixed keys
//     (split at the input's middle): neither may be accepted, as only the
//     bootstrap's key could make them.
// The seed corpus (corpus/enrollment/) is a valid token and answers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/bytes.hpp"
#include "protocol/enrollment_messages.hpp"
#include "protocol/enrollment_token.hpp"

namespace {

using zeq::Bytes;
using zeq::ByteSpan;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

zeq::X25519Keypair key(uint8_t fill) {
  std::array<uint8_t, 32> k{};
  k.fill(fill);
  return zeq::x25519_from_private(k);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ByteSpan in(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      std::string text(in.begin(), in.end());
      auto t = zeq::enroll::decode_token(text);
      if (t) check(zeq::enroll::encode_token(*t) == trimmed(text));
      else check(t.message().find('\n') == std::string::npos);
      break;
    }
    case 1: {
      auto a = zeq::enroll::decode_answer(in);
      if (a) {
        check(zeq::enroll::encode_answer(*a) == Bytes(in.begin(), in.end()));
        for (char c : a->message) check(c >= 0x20 && c <= 0x7e);
      }
      break;
    }
    case 2: {
      const auto boot = key(1);
      zeq::enroll::BootstrapHandshake hs(boot);
      auto hello = hs.read_hello(in);
      if (!hello) break;
      std::array<uint8_t, 32> psk{}, e{};
      psk.fill(3);
      e.fill(4);
      check(bool(hs.challenge(psk, e)));
      check(!hs.read_request(in));
      check(!hs.answer(zeq::enroll::JoinAnswer{}));
      break;
    }
    case 3: {
      const auto boot = key(1), node = key(2);
      zeq::enroll::InviteToken t;
      t.mesh_name.assign(1, 'm');
      t.bootstrap_key = boot.public_key;
      std::array<uint8_t, 32> e{};
      e.fill(5);
      zeq::enroll::JoinerHandshake hs(t, node, e);
      check(bool(hs.hello()));
      const size_t half = in.size() / 2;
      check(!hs.read_challenge(in.first(half)));
      check(!hs.read_answer(in.subspan(half)));
      break;
    }
  }
  return 0;
}
