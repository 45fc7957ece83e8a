// Handshake extensions: optional entries a node appends to its handshake
// payload, inside the Noise encryption, when it has something a v1 peer does
// not need (docs/protocol.md, "Handshake extensions"). Today one: the
// sender's mesh certificate, so a node can admit a peer its configuration
// does not name. A message without extensions is PROTOCOL.md v1 byte for byte.
#pragma once

#include <optional>

#include "core/bytes.hpp"

namespace zeq {

struct HandshakeExtensions {
  Bytes certificate;  // canonical certificate bytes; empty: none

  bool empty() const { return certificate.empty(); }
};

// type(1) length(2) value per entry, in type order; empty when there is
// nothing to carry. Longer than wire::MAX_EXTENSIONS_SIZE is the caller's
// error (certificates are at most MAX_CERTIFICATE_BYTES).
Bytes encode_extensions(const HandshakeExtensions& ext);
// nullopt when an entry runs past the end, is empty, or repeats a type, or
// the types are out of order. Entries of unknown types are skipped, so later
// versions can add some.
std::optional<HandshakeExtensions> decode_extensions(ByteSpan bytes);

}  // namespace zeq
