// Fuzz target: relay over TCP's stream framing (protocol/stream_framing.hpp),
// as a relay or a client reads what the other end of a TCP connection sent.
// The first input byte chooses how the rest is cut into reads (as a socket
// may return it in any pieces); the rest is the stream. Properties, trapped
// when broken:
//  - the datagrams delivered are the same whatever the cut (one read of the
//    whole stream is the reference);
//  - every datagram is 1..STREAM_MAX_DATAGRAM bytes, and framing them again
//    gives back exactly the stream's prefix they came from;
//  - the stream fails (kBadLength) exactly when the next header after that
//    prefix announces 0 or more than the maximum, and after a failure
//    nothing more is delivered;
//  - what is held (partial()) is exactly the rest of the stream after the
//    delivered prefix, and never more than one frame.
// The seed corpus (corpus/stream_framing/) is make_corpus.py stream_seeds().
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/bytes.hpp"
#include "protocol/stream_framing.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Run {
  std::vector<zeq::Bytes> frames;
  bool failed = false;
  size_t held = 0;
};

Run read(const uint8_t* data, size_t size, uint8_t cut) {
  zeq::StreamDeframer d;
  Run r;
  size_t at = 0;
  uint32_t state = cut;
  while (at < size) {
    size_t n = size - at;
    if (cut != 0) {
      state = state * 1103515245u + 12345u;
      n = std::min(n, size_t(1 + (state >> 16) % (cut * 8u)));
    }
    auto e = d.feed(zeq::ByteSpan(data + at, n), [&](zeq::ByteSpan f) {
      check(!r.failed);
      r.frames.emplace_back(f.begin(), f.end());
    });
    if (e != zeq::StreamDeframer::Error::kNone) r.failed = true;
    check(r.failed == d.failed());
    at += n;
  }
  r.held = d.held_bytes();
  check(r.held <= zeq::STREAM_FRAME_HEADER + zeq::STREAM_MAX_DATAGRAM);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t cut = data[0];
  const uint8_t* stream = data + 1;
  const size_t n = size - 1;

  const Run whole = read(stream, n, 0);
  const Run pieces = read(stream, n, cut);
  check(whole.frames == pieces.frames);
  check(whole.failed == pieces.failed);

  zeq::Bytes again;
  for (const auto& f : whole.frames) {
    check(!f.empty() && f.size() <= zeq::STREAM_MAX_DATAGRAM);
    check(zeq::append_frame(again, f));
  }
  check(again.size() <= n && std::equal(again.begin(), again.end(), stream));
  const size_t rest = n - again.size();
  if (rest >= zeq::STREAM_FRAME_HEADER) {
    const size_t len = (size_t(stream[again.size()]) << 8) | stream[again.size() + 1];
    const bool bad = len == 0 || len > zeq::STREAM_MAX_DATAGRAM;
    check(whole.failed == bad);
    // Not failed: only a frame's beginning is left, and it is what is held.
    if (!bad) check(rest < zeq::STREAM_FRAME_HEADER + len && whole.held == rest && pieces.held == rest);
  } else {
    check(!whole.failed);
    check(whole.held == rest && pieces.held == rest);
  }
  return 0;
}
