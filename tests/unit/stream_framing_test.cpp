// Relay over TCP's stream framing (protocol/stream_framing.hpp, docs/protocol.md
// "Relay over TCP"): the bytes of a frame, datagrams delivered whole and in
// order however the stream is cut, and the bad inputs: a length of 0 or
// above the maximum fails the stream (frames before it still delivered,
// nothing after), a stream that stops mid-frame is seen as partial, and the
// memory held never exceeds one frame.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "protocol/stream_framing.hpp"

namespace zeq {
namespace {

std::vector<Bytes> feed_all(StreamDeframer& d, ByteSpan in, StreamDeframer::Error* err = nullptr) {
  std::vector<Bytes> out;
  auto e = d.feed(in, [&](ByteSpan f) { out.emplace_back(f.begin(), f.end()); });
  if (err) *err = e;
  return out;
}

TEST(StreamFraming, FrameBytes) {
  Bytes out;
  ASSERT_TRUE(append_frame(out, Bytes{0x04, 0xaa, 0xbb}));
  EXPECT_EQ(out, (Bytes{0x00, 0x03, 0x04, 0xaa, 0xbb}));
  Bytes big(300, 0x10);
  ASSERT_TRUE(append_frame(out, big));
  EXPECT_EQ(out[5], 0x01);
  EXPECT_EQ(out[6], 0x2c);  // 300 = 0x012c
  EXPECT_EQ(out.size(), 5u + 2 + 300);
  EXPECT_FALSE(append_frame(out, Bytes{}));
  EXPECT_FALSE(append_frame(out, Bytes(STREAM_MAX_DATAGRAM + 1, 0)));
  EXPECT_EQ(out.size(), 5u + 2 + 300);  // nothing appended by a refusal
  Bytes max;
  EXPECT_TRUE(append_frame(max, Bytes(STREAM_MAX_DATAGRAM, 1)));
}

TEST(StreamFraming, AnyCutDeliversTheSameDatagrams) {
  std::mt19937 rng(7);
  std::vector<Bytes> sent;
  Bytes stream;
  for (int i = 0; i < 200; ++i) {
    Bytes d(1 + rng() % (i % 10 == 0 ? STREAM_MAX_DATAGRAM : 1500));
    for (auto& b : d) b = uint8_t(rng());
    ASSERT_TRUE(append_frame(stream, d));
    sent.push_back(std::move(d));
  }
  for (size_t max_piece : {size_t(1), size_t(2), size_t(3), size_t(1000), size_t(65536), stream.size()}) {
    StreamDeframer d;
    std::vector<Bytes> got;
    size_t at = 0;
    while (at < stream.size()) {
      const size_t n = std::min(stream.size() - at, 1 + rng() % max_piece);
      auto e = d.feed(ByteSpan(stream.data() + at, n), [&](ByteSpan f) { got.emplace_back(f.begin(), f.end()); });
      ASSERT_EQ(e, StreamDeframer::Error::kNone);
      at += n;
    }
    EXPECT_EQ(got, sent) << "pieces of at most " << max_piece;
    EXPECT_FALSE(d.partial());
  }
}

TEST(StreamFraming, ZeroLengthFailsTheStream) {
  StreamDeframer d;
  StreamDeframer::Error e;
  // One good frame, then length 0, then a good frame that must not come out.
  Bytes in{0x00, 0x01, 0x42, 0x00, 0x00, 0x00, 0x01, 0x43};
  auto got = feed_all(d, in, &e);
  EXPECT_EQ(e, StreamDeframer::Error::kBadLength);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], Bytes{0x42});
  EXPECT_TRUE(d.failed());
  // Failed for good.
  got = feed_all(d, Bytes{0x00, 0x01, 0x44}, &e);
  EXPECT_EQ(e, StreamDeframer::Error::kBadLength);
  EXPECT_TRUE(got.empty());
}

TEST(StreamFraming, OverlongLengthFailsAtTheHeader) {
  // Above the maximum: refused as soon as the two header bytes are in, not
  // after waiting for a body (a hostile peer cannot make the reader hold
  // 64 KiB it will never use).
  const size_t bad = STREAM_MAX_DATAGRAM + 1;
  StreamDeframer d;
  StreamDeframer::Error e;
  feed_all(d, Bytes{uint8_t(bad >> 8)}, &e);
  EXPECT_EQ(e, StreamDeframer::Error::kNone);
  EXPECT_TRUE(d.partial());
  feed_all(d, Bytes{uint8_t(bad)}, &e);
  EXPECT_EQ(e, StreamDeframer::Error::kBadLength);
  StreamDeframer d2;
  feed_all(d2, Bytes{0xff, 0xff, 1, 2, 3}, &e);
  EXPECT_EQ(e, StreamDeframer::Error::kBadLength);
  // Exactly the maximum is a frame.
  StreamDeframer d3;
  Bytes ok;
  ASSERT_TRUE(append_frame(ok, Bytes(STREAM_MAX_DATAGRAM, 9)));
  auto got = feed_all(d3, ok, &e);
  EXPECT_EQ(e, StreamDeframer::Error::kNone);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].size(), STREAM_MAX_DATAGRAM);
}

TEST(StreamFraming, PartialFrameIsHeldNotDelivered) {
  StreamDeframer d;
  StreamDeframer::Error e;
  auto got = feed_all(d, Bytes{0x00, 0x05, 1, 2, 3}, &e);
  EXPECT_EQ(e, StreamDeframer::Error::kNone);
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(d.partial());
  EXPECT_EQ(d.held_bytes(), 5u);
  got = feed_all(d, Bytes{4, 5, 0x00}, &e);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (Bytes{1, 2, 3, 4, 5}));
  EXPECT_TRUE(d.partial());  // one header byte of the next
  EXPECT_EQ(d.held_bytes(), 1u);
  got = feed_all(d, Bytes{}, &e);  // an empty read changes nothing
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(d.held_bytes(), 1u);
}

}  // namespace
}  // namespace zeq
