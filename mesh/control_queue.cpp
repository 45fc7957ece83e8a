#include "mesh/control_queue.hpp"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "mesh/keypair.hpp"  // CACHE_LINE
#include "mesh/session_manager.hpp"
#include "protocol/wire.hpp"

namespace zeq {

namespace {

// A slot holds the largest message either kind can bring: a handshake
// message without mac2 (extensions included), or an in-tunnel control
// plaintext up to the size senders allow.
constexpr size_t SLOT_BYTES = std::max(wire::MAX_INIT_SIZE, SessionManager::MAX_CONTROL_PLAINTEXT);
static_assert(wire::MAX_RESPONSE_SIZE <= SLOT_BYTES && wire::COOKIE_REPLY_SIZE <= SLOT_BYTES);
static_assert((ControlQueue::RING_SLOTS & (ControlQueue::RING_SLOTS - 1)) == 0, "ring indices wrap by mask");
static_assert(ControlQueue::RING_SLOTS % 32 == 0, "whole pages of slots, up to 64 KB pages");

}  // namespace

// Plain bytes without initialisers, so a slot is not written (and its page
// not made resident) before a message needs it. Two to a 4 KB page, so the
// control thread can hand whole pages back (Ring::give_back).
struct alignas(2048) ControlQueue::Slot {
  enum class Kind : uint8_t { kHandshake, kControl };
  Kind kind;
  uint16_t len;
  uint64_t tag;  // handshake: the route it came by; control: the peer's serial
  sockaddr_in6 from;
  uint8_t bytes[SLOT_BYTES];
};

// One producer, one consumer (the control thread). Positions only grow;
// slot = position % RING_SLOTS. Each side's position is on its own line, and
// the producer keeps its last view of the consumer's, so it reads the
// consumer's line only when the ring looks full.
//
// Positions wrap, so over a long run every slot of a ring gets written; a
// ring whose pages stayed resident would grow to its full 1 MB however few
// messages are ever in flight (3 MB for a 2-worker node, a slow creep over
// hours). So the control thread hands slots back in whole pages, and when a
// drain has emptied the ring it first gives those pages back to the kernel
// (the producer's next write there gets a fresh zero-filled page). Not
// while messages keep coming (a handshake flood): each page given back
// costs the producer, a worker, a page fault when it wraps round to it; the
// pages a flood touched go back as the quiet traffic after it passes over
// them. The slots of a page not yet finished stay unreleased: one slot of
// capacity with 4 KB pages. No transparent huge pages: giving back 4 KB of
// a 2 MB page frees nothing.
struct ControlQueue::Ring {
  static_assert(sizeof(Slot) == 2048);
  Ring() {
    void* p = ::mmap(nullptr, BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    (void)::madvise(p, BYTES, MADV_NOHUGEPAGE);
    slots = static_cast<Slot*>(p);
    const long page = ::sysconf(_SC_PAGESIZE);
    granule = page > long(sizeof(Slot)) ? uint64_t(page) / sizeof(Slot) : 1;
  }
  ~Ring() { ::munmap(slots, BYTES); }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  alignas(CACHE_LINE) std::atomic<uint64_t> head{0};  // next slot to fill: the producer's
  uint64_t tail_seen = 0;                             // the producer's copy of `tail`
  alignas(CACHE_LINE) std::atomic<uint64_t> tail{0};  // slots before it are the producer's again
  uint64_t taken = 0;                                 // control thread: next slot to handle
  static constexpr size_t BYTES = sizeof(Slot) * size_t(RING_SLOTS);
  Slot* slots = nullptr;
  uint64_t granule = 1;  // slots per page

  Slot& at(uint64_t position) { return slots[position & uint64_t(RING_SLOTS - 1)]; }

  // Control thread: releases the handled slots [tail, taken) to the producer
  // in whole pages; with `drop_pages`, each given back to the kernel first.
  void give_back(bool drop_pages) {
    const uint64_t from = tail.load(std::memory_order_relaxed);
    const uint64_t to = taken - taken % granule;
    if (to <= from) return;
    if (drop_pages) {
      const uint64_t first = from & uint64_t(RING_SLOTS - 1);
      const uint64_t count = to - from;
      const uint64_t before_wrap = std::min(count, uint64_t(RING_SLOTS) - first);
      (void)::madvise(slots + first, before_wrap * sizeof(Slot), MADV_DONTNEED);
      if (count > before_wrap) (void)::madvise(slots, (count - before_wrap) * sizeof(Slot), MADV_DONTNEED);
    }
    // Release: the producer sees the slots free only after we are done.
    tail.store(to, std::memory_order_release);
  }

  size_t resident_bytes() const {
    const long page = ::sysconf(_SC_PAGESIZE);
    std::vector<unsigned char> in((BYTES + size_t(page) - 1) / size_t(page));
    if (::mincore(slots, BYTES, in.data()) != 0) return 0;
    size_t n = 0;
    for (unsigned char c : in) n += (c & 1) ? size_t(page) : 0;
    return n;
  }
};

struct ControlQueue::Waker {
  Waker(boost::asio::io_context& io, int fd) : descriptor(io, fd) {}
  boost::asio::posix::stream_descriptor descriptor;  // owns the eventfd
};

Result<std::unique_ptr<ControlQueue>> ControlQueue::create(boost::asio::io_context& io, int producers,
                                                           Handlers handlers) {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return Status::error(std::string("control queue: eventfd: ") + std::strerror(errno) +
                         "; raise the open-file limit (LimitNOFILE=)");
  return std::unique_ptr<ControlQueue>(new ControlQueue(io, producers, std::move(handlers), fd));
}

ControlQueue::ControlQueue(boost::asio::io_context& io, int producers, Handlers handlers, int event_fd)
    : io_(io), handlers_(std::move(handlers)), waker_(std::make_unique<Waker>(io, event_fd)), event_fd_(event_fd) {
  rings_.reserve(size_t(std::max(producers, 0)));
  for (int i = 0; i < producers; ++i) rings_.push_back(std::make_unique<Ring>());
  arm();
}

// The descriptor closes the eventfd and cancels the wait; the cancelled
// handler touches nothing of ours.
ControlQueue::~ControlQueue() = default;

ControlQueue::Slot* ControlQueue::claim(int producer) {
  if (producer < 0 || size_t(producer) >= rings_.size()) return nullptr;
  Ring& r = *rings_[size_t(producer)];
  const uint64_t head = r.head.load(std::memory_order_relaxed);
  if (head - r.tail_seen >= uint64_t(RING_SLOTS)) {
    // Acquire: the control thread is done with the slot before we reuse it.
    r.tail_seen = r.tail.load(std::memory_order_acquire);
    if (head - r.tail_seen >= uint64_t(RING_SLOTS)) return nullptr;
  }
  // A compare-and-swap, not add-then-undo, so queued() never reads above
  // the bound, even for an instant.
  int queued = queued_.load(std::memory_order_relaxed);
  do {
    if (queued >= MAX_QUEUED_MESSAGES) return nullptr;
  } while (!queued_.compare_exchange_weak(queued, queued + 1, std::memory_order_relaxed));
  return &r.at(head);
}

// seq_cst on the head store and the flag load, against the control thread's
// seq_cst flag store and head load before it waits: either it sees this
// message in its last look, or we see it asleep and wake it (or another
// producer that took the flag first does).
void ControlQueue::publish(int producer) {
  Ring& r = *rings_[size_t(producer)];
  r.head.store(r.head.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);
  if (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false, std::memory_order_seq_cst)) {
    const uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);  // cannot fail short of a counter at 2^64 - 1
  }
}

bool ControlQueue::deliver_handshake(int producer, ByteSpan message, const UdpEndpoint& from, uint64_t via_route) {
  if (message.size() > SLOT_BYTES) return false;  // no handshake message is this long: counted as a drop
  Slot* s = claim(producer);
  if (!s) return false;
  s->kind = Slot::Kind::kHandshake;
  s->len = uint16_t(message.size());
  s->tag = via_route;
  s->from = from.sa;
  std::memcpy(s->bytes, message.data(), message.size());
  publish(producer);
  return true;
}

bool ControlQueue::deliver_control(int producer, uint64_t serial, ByteSpan plaintext) {
  // Past MAX_CONTROL_PLAINTEXT there is only padding (senders refuse longer
  // messages, SessionManager::send_plaintext; a padding policy pads up to
  // the MTU), so the slot keeps the message and drops the padding.
  const size_t len = std::min(plaintext.size(), SessionManager::MAX_CONTROL_PLAINTEXT);
  Slot* s = claim(producer);
  if (!s) return false;
  s->kind = Slot::Kind::kControl;
  s->len = uint16_t(len);
  s->tag = serial;
  std::memcpy(s->bytes, plaintext.data(), len);
  publish(producer);
  return true;
}

size_t ControlQueue::resident_bytes() const {
  size_t n = 0;
  for (const auto& ring : rings_) n += ring->resident_bytes();
  return n;
}

void ControlQueue::peer_needs_attention(uint64_t serial) {
  boost::asio::post(io_, [this, serial] { handlers_.attention(serial); });
}

void ControlQueue::arm() {
  waker_->descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                                [this](const boost::system::error_code& ec) {
                                  if (ec) return;  // cancelled: the queue is going away
                                  drain();
                                });
}

// Takes up to DRAIN_PER_WAKE messages from each ring, in each ring's order.
// A message is handled in its slot, which goes back to the producer after.
void ControlQueue::drain() {
  uint64_t count;
  (void)!::read(event_fd_, &count, sizeof count);  // reset; EAGAIN when we woke ourselves and a producer did not
  bool more = false;
  for (auto& ring : rings_) {
    Ring& r = *ring;
    const uint64_t head = r.head.load(std::memory_order_acquire);
    const uint64_t end = std::min(head, r.taken + uint64_t(DRAIN_PER_WAKE));
    for (; r.taken != end; ++r.taken) {
      const Slot& s = r.at(r.taken);
      queued_.fetch_sub(1, std::memory_order_relaxed);
      if (s.kind == Slot::Kind::kHandshake) {
        UdpEndpoint from;
        from.sa = s.from;
        handlers_.handshake(ByteSpan(s.bytes, s.len), from, s.tag);
      } else {
        handlers_.control(s.tag, ByteSpan(s.bytes, s.len));
      }
    }
    // Emptied (as far as this drain saw): a quiet moment to hand pages back.
    r.give_back(end == head);
    if (end != head) more = true;
  }
  if (!more) {
    // Going to sleep: say so, then look once more (see publish()).
    sleeping_.store(true, std::memory_order_seq_cst);
    for (auto& ring : rings_)
      if (ring->head.load(std::memory_order_seq_cst) != ring->taken) more = true;
    // A producer that took the flag back has written the eventfd already.
    if (more && !sleeping_.exchange(false, std::memory_order_seq_cst)) more = false;
  }
  if (more) {
    // Come back after the loop's other ready work, through the eventfd,
    // which allocates nothing.
    const uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);
  }
  arm();
}

}  // namespace zeq
