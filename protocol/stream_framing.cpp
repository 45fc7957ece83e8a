#include "protocol/stream_framing.hpp"

namespace zeq {

bool append_frame(Bytes& out, ByteSpan datagram) {
  if (datagram.empty() || datagram.size() > STREAM_MAX_DATAGRAM) return false;
  const size_t at = out.size();
  out.resize(at + STREAM_FRAME_HEADER + datagram.size());
  put_frame_header(out.data() + at, datagram.size());
  std::memcpy(out.data() + at + STREAM_FRAME_HEADER, datagram.data(), datagram.size());
  return true;
}

}  // namespace zeq
