// Text encodings of key material, through libsodium's constant-time codecs
// (a key's bits do not leak through how long decoding took): base64 for
// keys as users see them, hex for secrets decoded straight into the
// caller's (locked) memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace zeq {

// Standard base64 with padding.
std::string base64_encode(std::span<const uint8_t> bytes);
// True when text is exactly the base64 of out.size() bytes, written to out.
[[nodiscard]] bool base64_decode_exact(std::string_view text, std::span<uint8_t> out);
// Hex (either case) into out; true with *written set when text is only hex
// digits and fits.
[[nodiscard]] bool hex_decode(std::string_view text, std::span<uint8_t> out, size_t* written);

}  // namespace zeq
