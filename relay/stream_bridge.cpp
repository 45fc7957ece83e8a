#include "relay/stream_bridge.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/bytes.hpp"
#include "protocol/stream_framing.hpp"

namespace zeq {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;

int64_t stream_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint32_t loopback_for(const uint8_t* address, size_t len) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (size_t i = 0; i < std::min<size_t>(len, len == 16 ? 8 : 4); ++i) h = (h ^ address[i]) * 16777619u;
  uint32_t low = h & 0xffffff;
  if ((low & 0xff) == 0 || (low & 0xff) == 0xff) low ^= 0x01;  // nothing that looks like a network or broadcast
  return (127u << 24) | low;
}

int open_loopback_socket(uint16_t node_port, uint32_t local_v4, std::string& error) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(local_v4);
  sockaddr_in node{};
  node.sin_family = AF_INET;
  node.sin_port = htons(node_port);
  node.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Room for a burst of the node's datagrams while the stream is busy.
  const int buf = 1 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&node), sizeof node) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

struct StreamBridge::Impl : std::enable_shared_from_this<StreamBridge::Impl> {
  Impl(asio::io_context& io, int tcp_fd, int udp_fd, TcpTransportCounters& c, int64_t now_us, Closed closed)
      : tcp_(io), udp_(io), counters_(c), on_closed_(std::move(closed)), opened_us_(now_us) {
    error_code ec;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(tcp_fd, reinterpret_cast<sockaddr*>(&ss), &len);
    tcp_.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), tcp_fd, ec);
    udp_.assign(udp::v4(), udp_fd, ec);
    const auto local = udp_.local_endpoint(ec);
    if (!ec) loopback_port_ = local.port();
    // Small frames (handshakes, pings, keepalives) go at once, not after
    // Nagle's wait for an acknowledgement.
    tcp_.set_option(tcp::no_delay(true), ec);
    tcp_.non_blocking(true, ec);
    udp_.non_blocking(true, ec);
    counters_.connections.fetch_add(1, std::memory_order_relaxed);
  }

  void start() {
    stream_buf_ = std::make_unique<std::array<uint8_t, READ_BYTES>>();
    datagram_buf_ = std::make_unique<std::array<uint8_t, 65536>>();
    read_stream();
    read_loopback();
  }

  void close(const char* why) {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    tcp_.shutdown(tcp::socket::shutdown_both, ec);
    tcp_.close(ec);
    udp_.close(ec);
    counters_.connections.fetch_sub(1, std::memory_order_relaxed);
    if (on_closed_) {
      Closed f = std::move(on_closed_);
      on_closed_ = nullptr;
      f(why);
    }
  }

  void read_stream() {
    tcp_.async_read_some(asio::buffer(*stream_buf_), [self = shared_from_this()](const error_code& ec, size_t n) {
      if (self->closed_) return;
      if (ec) return self->close(ec == asio::error::eof ? "closed by the other end" : "read failed");
      const int64_t now = stream_now_us();
      bool framed = false;
      const auto err = self->deframer_.feed(ByteSpan(self->stream_buf_->data(), n), [&](ByteSpan d) {
        framed = true;
        self->counters_.frames_in.fetch_add(1, std::memory_order_relaxed);
        self->counters_.bytes_in.fetch_add(d.size(), std::memory_order_relaxed);
        error_code send_ec;
        // Loopback: either the kernel takes it at once or it is lost, like
        // a datagram on a full link.
        self->udp_.send(asio::buffer(d.data(), d.size()), 0, send_ec);
        if (send_ec) self->counters_.loopback_drops.fetch_add(1, std::memory_order_relaxed);
      });
      if (err != StreamDeframer::Error::kNone) {
        self->counters_.bad_frames.fetch_add(1, std::memory_order_relaxed);
        return self->close("bad frame length");
      }
      if (framed) self->last_frame_us_ = now;
      if (!self->deframer_.partial()) self->partial_since_us_ = 0;
      else if (framed || self->partial_since_us_ == 0) self->partial_since_us_ = now;
      self->read_stream();
    });
  }

  void read_loopback() {
    udp_.async_wait(udp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
      if (self->closed_) return;
      if (ec) return self->close("loopback socket failed");
      // Everything queued now, in one go: one write carries many frames.
      for (int i = 0; i < 256; ++i) {
        error_code rec;
        const size_t n = self->udp_.receive(asio::buffer(*self->datagram_buf_), 0, rec);
        if (rec == asio::error::would_block || rec == asio::error::try_again) break;
        if (rec) {
          // An ICMP error of an earlier send (the node's port unreachable
          // for a moment): not fatal.
          if (rec == asio::error::connection_refused) continue;
          return self->close("loopback socket failed");
        }
        self->take_datagram(n);
      }
      self->write_more();
      self->read_loopback();
    });
  }

  void take_datagram(size_t len) {
    if (len == 0 || len > STREAM_MAX_DATAGRAM) return;
    if (pending_.size() + STREAM_FRAME_HEADER + len > WRITE_QUEUE_BYTES) {
      counters_.queue_full_drops.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    append_frame(pending_, ByteSpan(datagram_buf_->data(), len));
    counters_.frames_out.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes_out.fetch_add(len, std::memory_order_relaxed);
  }

  void write_more() {
    if (write_busy_ || pending_.empty() || closed_) return;
    std::swap(pending_, writing_);
    pending_.clear();
    write_busy_ = true;
    asio::async_write(tcp_, asio::buffer(writing_), [self = shared_from_this()](const error_code& ec, size_t) {
      self->write_busy_ = false;
      if (self->closed_) return;
      if (ec) return self->close("write failed");
      self->writing_.clear();
      self->write_more();
    });
  }

  tcp::socket tcp_;
  udp::socket udp_;
  TcpTransportCounters& counters_;
  Closed on_closed_;
  uint16_t loopback_port_ = 0;
  StreamDeframer deframer_;
  std::unique_ptr<std::array<uint8_t, READ_BYTES>> stream_buf_;
  std::unique_ptr<std::array<uint8_t, 65536>> datagram_buf_;
  Bytes pending_, writing_;
  bool write_busy_ = false;
  bool closed_ = false;
  int64_t opened_us_ = 0, last_frame_us_ = 0, partial_since_us_ = 0;
};

std::shared_ptr<StreamBridge> StreamBridge::start(asio::io_context& io, int tcp_fd, int udp_fd,
                                                  TcpTransportCounters& counters, int64_t now_us, Closed on_closed) {
  auto impl = std::make_shared<Impl>(io, tcp_fd, udp_fd, counters, now_us, std::move(on_closed));
  impl->start();
  return std::shared_ptr<StreamBridge>(new StreamBridge(std::move(impl)));
}

// The owner dropping its handle closes the bridge; pending handlers keep
// the Impl alive until they have run.
StreamBridge::~StreamBridge() {
  if (impl_) impl_->close("dropped");
}

void StreamBridge::close(const char* why) { impl_->close(why); }
bool StreamBridge::closed() const { return impl_->closed_; }
int64_t StreamBridge::opened_us() const { return impl_->opened_us_; }
int64_t StreamBridge::last_frame_us() const { return impl_->last_frame_us_; }
int64_t StreamBridge::partial_since_us() const { return impl_->partial_since_us_; }
uint16_t StreamBridge::loopback_port() const { return impl_->loopback_port_; }

}  // namespace zeq
