// Relay over TCP (docs/protocol.md, "Relay over TCP"): the framing of whole
// zeqvpn datagrams on a byte stream, for a client whose UDP to its relay is
// blocked. Each datagram travels as
//
//   length be16 (2) | the datagram, byte for byte (length bytes)
//
// with 1 <= length <= STREAM_MAX_DATAGRAM. Nothing else is on the stream: no
// greeting, no version, no padding. A length of 0 or above the maximum can
// only come from a broken or hostile peer; the stream cannot be resynchronised
// after it, so the reader reports it and the connection is closed.
//
// Pure code: StreamDeframer takes the bytes as a socket read them, in any
// pieces, and hands out the datagrams; it holds at most one partial frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/bytes.hpp"
#include "protocol/wire.hpp"

namespace zeq {

inline constexpr size_t STREAM_FRAME_HEADER = 2;
// The largest UDP payload zeqvpn ever sends (wire::MAX_MESSAGE_SIZE): a
// frame carries what a datagram could, no more.
inline constexpr size_t STREAM_MAX_DATAGRAM = wire::MAX_MESSAGE_SIZE;
static_assert(STREAM_MAX_DATAGRAM <= 0xffff);

// Writes the 2-byte header of a frame of `len` bytes (1..STREAM_MAX_DATAGRAM;
// the caller checks).
inline void put_frame_header(uint8_t* out, size_t len) {
  out[0] = uint8_t(len >> 8);
  out[1] = uint8_t(len);
}

// Appends one frame (header and datagram) to `out`. False, and nothing
// appended, for an empty datagram or one above STREAM_MAX_DATAGRAM.
bool append_frame(Bytes& out, ByteSpan datagram);

class StreamDeframer {
 public:
  enum class Error { kNone, kBadLength };

  // Feeds bytes read from the stream; on_frame(ByteSpan) runs for every
  // whole datagram, in order (the span is valid during the call only).
  // Returns kBadLength at a length of 0 or above STREAM_MAX_DATAGRAM: the
  // frames before it were delivered, nothing after it is, and every later
  // feed returns kBadLength too.
  template <typename OnFrame>
  Error feed(ByteSpan data, OnFrame&& on_frame);

  // Part of a frame is held (a header byte, or a header and some of its
  // datagram): the stream stopped mid-frame.
  bool partial() const { return have_ > 0; }
  size_t held_bytes() const { return have_; }
  bool failed() const { return failed_; }

 private:
  static bool bad(size_t len) { return len == 0 || len > STREAM_MAX_DATAGRAM; }
  // The partial frame: header then datagram. Allocated at the first partial
  // frame, never larger than one frame.
  std::unique_ptr<uint8_t[]> buf_;
  size_t have_ = 0;  // bytes of the partial frame held, header included
  bool failed_ = false;
};

template <typename OnFrame>
StreamDeframer::Error StreamDeframer::feed(ByteSpan data, OnFrame&& on_frame) {
  if (failed_) return Error::kBadLength;
  if (data.empty()) return Error::kNone;  // its data() may be null, which memcpy must not get
  const uint8_t* p = data.data();
  size_t n = data.size();
  // First finish the frame held from earlier reads.
  if (have_ > 0) {
    if (have_ < STREAM_FRAME_HEADER) {
      const size_t take = std::min(n, STREAM_FRAME_HEADER - have_);
      std::memcpy(buf_.get() + have_, p, take);
      have_ += take;
      p += take;
      n -= take;
      if (have_ < STREAM_FRAME_HEADER) return Error::kNone;
    }
    const size_t len = (size_t(buf_[0]) << 8) | buf_[1];
    if (bad(len)) {
      failed_ = true;
      have_ = 0;
      return Error::kBadLength;
    }
    const size_t want = STREAM_FRAME_HEADER + len - have_;
    const size_t take = std::min(n, want);
    std::memcpy(buf_.get() + have_, p, take);
    have_ += take;
    p += take;
    n -= take;
    if (take < want) return Error::kNone;
    have_ = 0;
    on_frame(ByteSpan(buf_.get() + STREAM_FRAME_HEADER, len));
  }
  // Whole frames straight from the caller's buffer, no copy.
  while (n >= STREAM_FRAME_HEADER) {
    const size_t len = (size_t(p[0]) << 8) | p[1];
    if (bad(len)) {
      failed_ = true;
      return Error::kBadLength;
    }
    if (n < STREAM_FRAME_HEADER + len) break;
    on_frame(ByteSpan(p + STREAM_FRAME_HEADER, len));
    p += STREAM_FRAME_HEADER + len;
    n -= STREAM_FRAME_HEADER + len;
  }
  if (n > 0) {
    // What is left is a header byte, or a header (its length checked in the
    // loop, so a bad one never waits for a body) and part of its datagram.
    if (!buf_) buf_ = std::make_unique<uint8_t[]>(STREAM_FRAME_HEADER + STREAM_MAX_DATAGRAM);
    std::memcpy(buf_.get(), p, n);
    have_ = n;
  }
  return Error::kNone;
}

}  // namespace zeq
