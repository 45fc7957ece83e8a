#include "mesh/control_queue.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <array>

#include "mesh/session_manager.hpp"
#include "protocol/wire.hpp"

namespace zeq {

namespace {

// A fixed-size copy, so queued work allocates nothing per message.
template <size_t N>
struct Copy {
  explicit Copy(ByteSpan bytes) : len(std::min(bytes.size(), N)) { std::copy_n(bytes.begin(), len, data.begin()); }
  ByteSpan span() const { return ByteSpan(data.data(), len); }
  std::array<uint8_t, N> data{};
  size_t len;
};

}  // namespace

ControlQueue::ControlQueue(boost::asio::io_context& io, Handlers handlers) : io_(io), handlers_(std::move(handlers)) {}

bool ControlQueue::reserve() {
  if (queued_.fetch_add(1) >= MAX_QUEUED_MESSAGES) {
    queued_.fetch_sub(1);
    return false;
  }
  return true;
}

bool ControlQueue::deliver_handshake(ByteSpan message, const UdpEndpoint& from, uint64_t via_route) {
  if (!reserve()) return false;
  boost::asio::post(io_, [this, copy = Copy<wire::MAX_INIT_SIZE>(message), from, via_route] {
    queued_.fetch_sub(1);
    handlers_.handshake(copy.span(), from, via_route);
  });
  return true;
}

bool ControlQueue::deliver_control(uint64_t serial, ByteSpan plaintext) {
  if (!reserve()) return false;
  boost::asio::post(io_, [this, copy = Copy<SessionManager::MAX_CONTROL_PLAINTEXT>(plaintext), serial] {
    queued_.fetch_sub(1);
    handlers_.control(serial, copy.span());
  });
  return true;
}

void ControlQueue::peer_needs_attention(uint64_t serial) {
  boost::asio::post(io_, [this, serial] { handlers_.attention(serial); });
}

}  // namespace zeq
