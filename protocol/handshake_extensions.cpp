#include "protocol/handshake_extensions.hpp"

#include "protocol/wire.hpp"

namespace zeq {

namespace {

void append_entry(Bytes& out, uint8_t type, ByteSpan value) {
  out.push_back(type);
  out.push_back(uint8_t(value.size() >> 8));
  out.push_back(uint8_t(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

}  // namespace

Bytes encode_extensions(const HandshakeExtensions& ext) {
  Bytes out;
  if (!ext.certificate.empty()) append_entry(out, wire::kExtensionCertificate, ext.certificate);
  return out;
}

std::optional<HandshakeExtensions> decode_extensions(ByteSpan bytes) {
  HandshakeExtensions ext;
  int last_type = -1;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < wire::EXTENSION_HEADER_SIZE) return std::nullopt;
    const uint8_t type = bytes[at];
    const size_t length = load_be16(bytes.data() + at + 1);
    at += wire::EXTENSION_HEADER_SIZE;
    if (length == 0 || length > bytes.size() - at || int(type) <= last_type) return std::nullopt;
    last_type = type;
    const ByteSpan value = bytes.subspan(at, length);
    if (type == wire::kExtensionCertificate) ext.certificate.assign(value.begin(), value.end());
    at += length;
  }
  return ext;
}

}  // namespace zeq
