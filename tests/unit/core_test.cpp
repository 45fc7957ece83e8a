#include <gtest/gtest.h>

#include <cmath>

#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/constants.hpp"
#include "core/result.hpp"

namespace zeq {

TEST(Constants, DerivedValues) {
  EXPECT_DOUBLE_EQ(F_H, PULSE_HZ);
  EXPECT_NEAR(COVER_RATE_HZ, 12.87, 0.001);
  EXPECT_EQ(TAU_ZQ_US, static_cast<int64_t>(std::llround(TAU_ZQ * 1e6)));
  EXPECT_EQ(DEFAULT_MTU, 1416);
}

TEST(ZeqondClock, NumberAndPhase) {
  // The shared vector's clock.
  EXPECT_EQ(zeqond_of(1795000000000000), 2310167310u);
  EXPECT_EQ(zeqond_of(0), 0u);
  EXPECT_EQ(zeqond_of(TAU_ZQ_US - 1), 0u);
  EXPECT_EQ(zeqond_of(TAU_ZQ_US), 1u);
  EXPECT_DOUBLE_EQ(zeqond_phase(0), 0.0);
  EXPECT_DOUBLE_EQ(zeqond_phase(TAU_ZQ_US / 2), 0.5);
  EXPECT_LT(zeqond_phase(TAU_ZQ_US - 1), 1.0);
  EXPECT_EQ(zeqonds_to_us(60), 60 * TAU_ZQ_US);
}

TEST(ZeqondClock, SystemClockAgreesWithManual) {
  SystemClock sys;
  ManualClock manual(sys.unix_us());
  EXPECT_LE(manual.zeqond(), sys.zeqond());
  EXPECT_LE(sys.zeqond() - manual.zeqond(), 1u);
  manual.advance_us(TAU_ZQ_US);
  EXPECT_GE(manual.zeqond(), sys.zeqond());
  EXPECT_GT(sys.mono_us(), 0);
}

TEST(Bytes, HexRoundTrip) {
  Bytes b{0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(to_hex(b), "007f80ff");
  EXPECT_EQ(*from_hex("007F80ff"), b);
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
}

TEST(Bytes, BigEndian) {
  uint8_t buf[8];
  store_be64(buf, 0x0102030405060708ull);
  EXPECT_EQ(buf[0], 1);
  EXPECT_EQ(buf[7], 8);
  EXPECT_EQ(load_be64(buf), 0x0102030405060708ull);
  EXPECT_EQ(load_be32(buf), 0x01020304u);
  EXPECT_EQ(load_be16(buf), 0x0102);
}

TEST(Result, ValueAndError) {
  Result<int> ok = 5;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 5);
  Result<int> bad = Status::error("listen_port 1 is in use");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.message(), "listen_port 1 is in use");
}

}  // namespace zeq
