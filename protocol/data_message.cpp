#include "protocol/data_message.hpp"

namespace zeq {

std::optional<size_t> seal_data_message(AeadContext& key, uint32_t receiver_index, uint64_t zeqond,
                                        uint64_t counter, uint8_t* buf, size_t plaintext_len) {
  buf[0] = wire::kData;
  buf[1] = buf[2] = buf[3] = 0;
  store_be32(buf + wire::DATA_RECEIVER_INDEX_OFFSET, receiver_index);
  uint8_t* iv = buf + wire::DATA_HEADER_SIZE;
  store_be32(iv, uint32_t(zeqond));  // Zeqond mod 2^32
  store_be64(iv + 4, counter);
  uint8_t* tag = iv + wire::DATA_IV_SIZE;
  if (!key.seal(iv, ByteSpan(buf, wire::DATA_HEADER_SIZE), MutableByteSpan(buf + wire::DATA_OVERHEAD, plaintext_len), tag))
    return std::nullopt;
  return wire::DATA_OVERHEAD + plaintext_len;
}

bool parse_data_header(ByteSpan msg, DataHeader& out) {
  if (msg.size() < wire::DATA_OVERHEAD || msg[0] != wire::kData || msg[1] || msg[2] || msg[3]) return false;
  out.receiver_index = load_be32(msg.data() + wire::DATA_RECEIVER_INDEX_OFFSET);
  out.counter = load_be64(msg.data() + wire::DATA_COUNTER_OFFSET);
  return true;
}

bool open_data_message(AeadContext& key, uint8_t* msg, size_t msg_len) {
  const uint8_t* iv = msg + wire::DATA_HEADER_SIZE;
  const uint8_t* tag = iv + wire::DATA_IV_SIZE;
  return key.open(iv, ByteSpan(msg, wire::DATA_HEADER_SIZE),
                  MutableByteSpan(msg + wire::DATA_OVERHEAD, msg_len - wire::DATA_OVERHEAD), tag);
}

}  // namespace zeq
