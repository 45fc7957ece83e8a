#include "crypto/secret_bytes.hpp"

#include <sodium.h>

#include <algorithm>
#include <new>
#include <stdexcept>

namespace zeq {

void crypto_init() {
  // sodium_init is itself idempotent and thread-safe.
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

void secure_wipe(void* p, size_t n) { sodium_memzero(p, n); }
bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}
// mlock can fail under RLIMIT_MEMLOCK; the key is still wiped, only not pinned.
void lock_memory(void* p, size_t n) { (void)sodium_mlock(p, n); }
void unlock_memory(void* p, size_t n) { (void)sodium_munlock(p, n); }

}  // namespace zeq

namespace zeq {

SecretBuffer::SecretBuffer(std::span<const uint8_t> src) : n_(src.size()) {
  crypto_init();
  p_ = static_cast<uint8_t*>(sodium_malloc(n_ == 0 ? 1 : n_));
  if (!p_) throw std::bad_alloc();
  std::copy(src.begin(), src.end(), p_);
}

SecretBuffer::~SecretBuffer() {
  if (p_) sodium_free(p_);  // wipes before freeing
}

SecretBuffer& SecretBuffer::operator=(SecretBuffer&& o) noexcept {
  if (this != &o) {
    if (p_) sodium_free(p_);
    p_ = o.p_; n_ = o.n_;
    o.p_ = nullptr; o.n_ = 0;
  }
  return *this;
}

}  // namespace zeq
