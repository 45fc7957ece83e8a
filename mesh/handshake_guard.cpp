#include "mesh/handshake_guard.hpp"

namespace zeq {

HandshakeGuard::HandshakeGuard(std::span<const uint8_t, 32> own_static_public, RandomSource& random)
    : own_cookie_key_(cookie_key_for(own_static_public)), random_(random) {}

// Workers race at a Zeqond's turn; a few counts landing in the wrong
// Zeqond do not matter to a load estimate.
int HandshakeGuard::ZeqondCount::add(int64_t now_us) {
  const int64_t z = now_us / TAU_ZQ_US;
  int64_t seen = zeqond.load(std::memory_order_relaxed);
  if (seen != z && zeqond.compare_exchange_strong(seen, z, std::memory_order_relaxed))
    count.store(0, std::memory_order_relaxed);
  return count.fetch_add(1, std::memory_order_relaxed) + 1;
}

bool HandshakeGuard::note_arrival(int queue_depth, int64_t now_us) {
  if (queue_depth >= LOAD_QUEUE_DEPTH || arrivals_.add(now_us) > LOAD_MESSAGES_PER_ZEQOND)
    under_load_until_us_.store(now_us + LOAD_HOLD_US, std::memory_order_relaxed);
  return under_load(now_us);
}

Cookie HandshakeGuard::cookie_for(const UdpEndpoint& from, int64_t now_us) {
  std::lock_guard lock(secret_mutex_);
  if (!has_secret_ || now_us - secret_born_us_ >= COOKIE_SECRET_LIFETIME_US) {
    random_.fill(secret_.mutable_span());
    secret_born_us_ = now_us;
    has_secret_ = true;
  }
  return make_cookie(secret_, from);
}

// The source of a message that gets a reply has proved nothing, so its
// bucket is asked only after the node's budget is spent, and only to grant
// (MAX_EXTRA_COOKIE_REPLIES_PER_ZEQOND).
bool HandshakeGuard::may_reply(const UdpEndpoint& from, int64_t now_us) {
  if (replies_.add(now_us) <= MAX_COOKIE_REPLIES_PER_ZEQOND) return true;
  return reply_grants_.allow(from, now_us) && extra_replies_.add(now_us) <= MAX_EXTRA_COOKIE_REPLIES_PER_ZEQOND;
}

bool HandshakeGuard::admit_received_cookie_reply(int64_t now_us) {
  return replies_received_.add(now_us) <= MAX_COOKIE_REPLIES_RECEIVED_PER_ZEQOND;
}

HandshakeGuard::Verdict HandshakeGuard::check(ByteSpan message, const UdpEndpoint& from, int queue_depth,
                                              int64_t now_us, std::span<uint8_t, wire::COOKIE_REPLY_SIZE> reply) {
  if (!note_arrival(queue_depth, now_us)) return Verdict::kPass;
  const bool has_mac2 = mac2_presence(message) == Mac2Presence::kPresent;
  // Without mac2 the budgets come first, so a flood over them costs no MAC.
  if (!has_mac2 && !may_reply(from, now_us)) return Verdict::kUnanswered;
  const Cookie cookie = cookie_for(from, now_us);
  if (!has_mac2 || !verify_mac2(cookie, message)) {
    if (has_mac2 && !may_reply(from, now_us)) return Verdict::kUnanswered;
    const size_t base = handshake_base_size(message);
    if (base == 0 || base > message.size()) return Verdict::kFailed;  // the worker checked the size; never here
    std::array<uint8_t, wire::COOKIE_NONCE_SIZE> nonce{};
    random_.fill(nonce);
    const uint32_t sender_index = load_be32(message.data() + wire::SENDER_INDEX_OFFSET);
    if (!write_cookie_reply(own_cookie_key_, sender_index, mac1_of(message.first(base)), cookie, nonce, reply))
      return Verdict::kFailed;
    return Verdict::kCookieReply;
  }
  return limiter_.allow(from, now_us) ? Verdict::kPass : Verdict::kRateLimited;
}

}  // namespace zeq
