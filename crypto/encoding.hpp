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
// Base64 of bytes into out, which must hold base64_encoded_length(size) + 1
// characters (a NUL ends it); for secrets that must leave no copy behind in
// freed memory. False when out is too small.
size_t base64_encoded_length(size_t size);
[[nodiscard]] bool base64_encode_to(std::span<const uint8_t> bytes, std::span<char> out);
// True when text is exactly the base64 of out.size() bytes, written to out.
[[nodiscard]] bool base64_decode_exact(std::string_view text, std::span<uint8_t> out);
// Hex (either case) into out; true with *written set when text is only hex
// digits and fits.
[[nodiscard]] bool hex_decode(std::string_view text, std::span<uint8_t> out, size_t* written);

}  // namespace zeq
