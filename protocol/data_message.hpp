// Data messages, type 0x04 (PROTOCOL.md 5): an 8-byte header (also the AAD),
// a 12-byte IV = be32(Zeqond mod 2^32) || be64(counter), the GCM tag, then
// the ciphertext. Sealing and opening work in place in the caller's buffer so
// the data path copies nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/bytes.hpp"
#include "crypto/aead.hpp"
#include "protocol/wire.hpp"

namespace zeq {

// buf holds DATA_OVERHEAD bytes of room, then plaintext_len bytes of
// plaintext. Writes the message into buf and returns its total length;
// nullopt when the cipher failed, and then buf must not be sent.
[[nodiscard]] std::optional<size_t> seal_data_message(AeadContext& key, uint32_t receiver_index, uint64_t zeqond, uint64_t counter,
                         uint8_t* buf, size_t plaintext_len);

struct DataHeader {
  uint32_t receiver_index = 0;
  uint64_t counter = 0;
};

// False unless msg is long enough and has the data type and zero bytes.
[[nodiscard]] bool parse_data_header(ByteSpan msg, DataHeader& out);

// Authenticates and decrypts in place; the plaintext is then at
// msg + DATA_OVERHEAD, msg_len - DATA_OVERHEAD bytes long.
[[nodiscard]] bool open_data_message(AeadContext& key, uint8_t* msg, size_t msg_len);

}  // namespace zeq
