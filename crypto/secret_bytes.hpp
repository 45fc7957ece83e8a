// Fixed-size key material that is locked in RAM (never swapped, kept out of
// core dumps where the kernel honours MADV_DONTDUMP via sodium_mlock) and
// wiped when it goes away. Every key in zeqvpn lives in one of these.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace zeq {

void secure_wipe(void* p, size_t n);
// Equal length and bytes, in time that depends only on the length (for MACs
// and tags, so a forger learns nothing from how long a check took).
bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);
void lock_memory(void* p, size_t n);
void unlock_memory(void* p, size_t n);

// Initialises libsodium once; safe to call from any thread, many times.
void crypto_init();

template <size_t N>
class SecretBytes {
 public:
  SecretBytes() { lock_memory(bytes_.data(), N); bytes_.fill(0); }
  explicit SecretBytes(std::span<const uint8_t> src) : SecretBytes() { assign(src); }
  SecretBytes(const SecretBytes& o) : SecretBytes() { bytes_ = o.bytes_; }
  SecretBytes& operator=(const SecretBytes& o) { bytes_ = o.bytes_; return *this; }
  ~SecretBytes() { secure_wipe(bytes_.data(), N); unlock_memory(bytes_.data(), N); }

  void assign(std::span<const uint8_t> src) {
    for (size_t i = 0; i < N; ++i) bytes_[i] = i < src.size() ? src[i] : 0;
  }
  void wipe() { secure_wipe(bytes_.data(), N); }

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }
  std::span<const uint8_t, N> span() const { return std::span<const uint8_t, N>(bytes_); }
  std::span<uint8_t, N> mutable_span() { return std::span<uint8_t, N>(bytes_); }
  uint8_t& operator[](size_t i) { return bytes_[i]; }
  const uint8_t& operator[](size_t i) const { return bytes_[i]; }

 private:
  std::array<uint8_t, N> bytes_;
};

using Key32 = SecretBytes<32>;

}  // namespace zeq

namespace zeq {

// Variable-length secret (the mesh secret, a field key) in libsodium's guarded
// heap: locked, surrounded by guard pages, wiped when freed. Move-only.
class SecretBuffer {
 public:
  SecretBuffer() = default;
  explicit SecretBuffer(std::span<const uint8_t> src);
  ~SecretBuffer();
  SecretBuffer(SecretBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; o.n_ = 0; }
  SecretBuffer& operator=(SecretBuffer&& o) noexcept;
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;

  std::span<const uint8_t> span() const { return {p_, n_}; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }

 private:
  uint8_t* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace zeq
