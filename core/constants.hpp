// The Zeq time constants and everything derived from them. PROTOCOL.md
// section 1 requires that these literals appear in this header only; every
// other file imports them from here.
#pragma once

#include <cstdint>

namespace zeq {

// The HulyaPulse frequency, in Hz.
inline constexpr double F_H = 1.287;
inline constexpr double PULSE_HZ = F_H;

// One Zeqond, in seconds and in integer microseconds. Integer microseconds
// are what the clock arithmetic uses so that Z(t) is exact.
inline constexpr double TAU_ZQ = 0.777;
inline constexpr int64_t TAU_ZQ_US = 777000;

// Cover-traffic rate: ten packets per pulse. Derived, never typed in.
inline constexpr double COVER_RATE_HZ = 10 * F_H;

// Protocol timers of PROTOCOL.md section 6, in Zeqonds.
inline constexpr int64_t REKEY_AFTER_Z = 60;
inline constexpr int64_t REJECT_AFTER_Z = 90;
inline constexpr uint64_t REKEY_AFTER_MESSAGES = uint64_t{1} << 60;
inline constexpr int64_t KEEPALIVE_Z = 13;
inline constexpr int64_t HANDSHAKE_RETRY_Z = 5;
inline constexpr int64_t HANDSHAKE_RETRY_JITTER_US = 333000;
inline constexpr int64_t HANDSHAKE_GIVE_UP_Z = 90;

// Load-time handshake defence (docs/protocol.md "Cookie reply and mac2"). The
// cookie secret lives two minutes, as WireGuard's. A sender uses a cookie
// for that long less a margin, counted from when the reply arrived: the
// cookie was made up to a trip across the network earlier, and a cookie
// used past its secret only draws another cookie reply (WireGuard keeps a
// margin for the same reason).
inline constexpr int64_t COOKIE_SECRET_LIFETIME_US = 120'000'000;
inline constexpr int64_t COOKIE_LATENCY_MARGIN_US = 10'000'000;
inline constexpr int64_t COOKIE_USE_US = COOKIE_SECRET_LIFETIME_US - COOKIE_LATENCY_MARGIN_US;

// Drift tolerance for Zeqond-stamped messages: |z - Z(now)| <= 1.
inline constexpr int64_t ZEQOND_DRIFT_TOLERANCE = 1;

// Microsecond duration of n Zeqonds.
constexpr int64_t zeqonds_to_us(int64_t n) { return n * TAU_ZQ_US; }

// Z(t) = floor(unix_time_us / 777000), integer arithmetic (PROTOCOL.md 1).
constexpr uint64_t zeqond_of(int64_t unix_time_us) {
  int64_t q = unix_time_us / TAU_ZQ_US;
  if (unix_time_us % TAU_ZQ_US != 0 && unix_time_us < 0) --q;  // floor, not truncation
  return static_cast<uint64_t>(q);
}

// phase(t) = (unix_time_us mod 777000) / 777000, in [0, 1).
constexpr double zeqond_phase(int64_t unix_time_us) {
  int64_t r = unix_time_us % TAU_ZQ_US;
  if (r < 0) r += TAU_ZQ_US;
  return static_cast<double>(r) / static_cast<double>(TAU_ZQ_US);
}

// Default TUN MTU: 1500 - 40 (IPv6) - 8 (UDP) - 36 (zeqvpn header and tag).
inline constexpr int DEFAULT_MTU = 1416;

}  // namespace zeq
