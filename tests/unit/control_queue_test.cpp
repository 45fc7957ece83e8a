// The workers' hand-off to the control thread (mesh/control_queue.hpp): one
// ring per producer and one eventfd. Producers here are plain threads and
// the test thread runs the control thread's io_context.
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "mesh/control_queue.hpp"
#include "mesh/session_manager.hpp"
#include "protocol/wire.hpp"

namespace zeq {

namespace {

using namespace std::chrono_literals;

// A message that says who sent it and its place in that sender's stream,
// padded to a size that varies with it.
Bytes message_of(int producer, uint32_t seq) {
  Bytes m(16 + seq % 200, uint8_t(seq));
  std::memcpy(m.data(), &producer, sizeof producer);
  std::memcpy(m.data() + 4, &seq, sizeof seq);
  return m;
}

struct Got {
  int producer;
  uint32_t seq;
  bool handshake;
};

Got parse(ByteSpan m, bool handshake) {
  Got r{};
  std::memcpy(&r.producer, m.data(), sizeof r.producer);
  std::memcpy(&r.seq, m.data() + 4, sizeof r.seq);
  r.handshake = handshake;
  EXPECT_EQ(m.size(), 16 + r.seq % 200u);
  for (size_t i = 8; i < m.size(); ++i) EXPECT_EQ(m[i], uint8_t(r.seq)) << "byte " << i;
  return r;
}

class ControlQueueTest : public ::testing::Test {
 protected:
  std::unique_ptr<ControlQueue> make(int producers) {
    auto q = ControlQueue::create(
        io_, producers,
        ControlQueue::Handlers{
            .handshake =
                [this](ByteSpan m, const UdpEndpoint& from, uint64_t via) {
                  Got r = parse(m, true);
                  EXPECT_EQ(from, endpoint_);
                  EXPECT_EQ(via, uint64_t(r.seq) * 3);
                  received_.push_back(r);
                },
            .control =
                [this](uint64_t serial, ByteSpan m) {
                  Got r = parse(m, false);
                  EXPECT_EQ(serial, uint64_t(r.seq) + 1000);
                  received_.push_back(r);
                },
            .attention = [this](uint64_t serial) { attention_.push_back(serial); }});
    EXPECT_TRUE(q) << q.message();
    return std::move(q.value());
  }
  // Even seqs as handshakes, odd as control messages.
  bool deliver(ControlQueue& q, int producer, uint32_t seq) {
    Bytes m = message_of(producer, seq);
    return seq % 2 ? q.deliver_control(producer, uint64_t(seq) + 1000, m)
                   : q.deliver_handshake(producer, m, endpoint_, uint64_t(seq) * 3);
  }
  // Runs the control thread's loop until `done` or the deadline.
  template <class Done>
  bool run_until(Done done, std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(5ms);
    }
    return true;
  }

  boost::asio::io_context io_;
  UdpEndpoint endpoint_ = *parse_udp_endpoint("198.51.100.7:51820");
  std::vector<Got> received_;
  std::vector<uint64_t> attention_;
};

}  // namespace

TEST_F(ControlQueueTest, DeliversInOrderWithSourceAndTag) {
  auto q = make(2);
  for (uint32_t s = 0; s < 10; ++s) ASSERT_TRUE(deliver(*q, 1, s));
  EXPECT_EQ(q->queued(), 10);
  EXPECT_TRUE(received_.empty());  // nothing runs before the loop does
  ASSERT_TRUE(run_until([&] { return received_.size() == 10; }));
  for (uint32_t s = 0; s < 10; ++s) {
    EXPECT_EQ(received_[s].producer, 1);
    EXPECT_EQ(received_[s].seq, s);
    EXPECT_EQ(received_[s].handshake, s % 2 == 0);
  }
  EXPECT_EQ(q->queued(), 0);
}

TEST_F(ControlQueueTest, FullRingAndUnknownProducerAreDrops) {
  auto q = make(2);
  int accepted = 0;
  for (uint32_t s = 0; s < ControlQueue::RING_SLOTS + 50; ++s) accepted += deliver(*q, 0, s);
  EXPECT_EQ(accepted, ControlQueue::RING_SLOTS);
  EXPECT_EQ(q->queued(), ControlQueue::RING_SLOTS);
  EXPECT_FALSE(deliver(*q, 2, 0));
  EXPECT_FALSE(deliver(*q, -1, 0));
  // The other producer's ring is not affected.
  EXPECT_TRUE(deliver(*q, 1, 0));
  ASSERT_TRUE(run_until([&] { return received_.size() == size_t(ControlQueue::RING_SLOTS) + 1; }));
  EXPECT_EQ(q->queued(), 0);
  // Drained rings take messages again, and the slots are reused.
  for (uint32_t s = 0; s < ControlQueue::RING_SLOTS; ++s) ASSERT_TRUE(deliver(*q, 0, s));
}

// However many producers, at most MAX_QUEUED_MESSAGES wait in all.
TEST_F(ControlQueueTest, GlobalBoundOverAllRings) {
  const int producers = 2 * ControlQueue::MAX_QUEUED_MESSAGES / ControlQueue::RING_SLOTS;
  auto q = make(producers);
  int accepted = 0;
  for (int p = 0; p < producers; ++p)
    for (uint32_t s = 0; s < ControlQueue::RING_SLOTS; ++s) accepted += deliver(*q, p, s);
  EXPECT_EQ(accepted, ControlQueue::MAX_QUEUED_MESSAGES);
  EXPECT_EQ(q->queued(), ControlQueue::MAX_QUEUED_MESSAGES);
  ASSERT_TRUE(run_until([&] { return received_.size() == size_t(ControlQueue::MAX_QUEUED_MESSAGES); }));
  EXPECT_EQ(q->queued(), 0);
}

TEST_F(ControlQueueTest, OversizedHandshakeDroppedControlPaddingCut) {
  auto q = make(1);
  Bytes big(wire::MAX_INIT_SIZE + 200, 0);
  big[0] = 7;
  EXPECT_FALSE(q->deliver_handshake(0, big, endpoint_));
  EXPECT_EQ(q->queued(), 0);
  // A control message padded to a large MTU: the slot keeps what a sender
  // may write (MAX_CONTROL_PLAINTEXT), the rest is padding.
  size_t got = 0;
  auto q2 = ControlQueue::create(io_, 1,
                                 ControlQueue::Handlers{.handshake = [](ByteSpan, const UdpEndpoint&, uint64_t) {},
                                                        .control = [&](uint64_t, ByteSpan m) { got = m.size(); },
                                                        .attention = [](uint64_t) {}});
  ASSERT_TRUE(q2);
  Bytes padded(9000, 0);
  padded[0] = wire::PLAINTEXT_CONTROL;
  EXPECT_TRUE((*q2)->deliver_control(0, 5, padded));
  ASSERT_TRUE(run_until([&] { return got != 0; }));
  EXPECT_EQ(got, SessionManager::MAX_CONTROL_PLAINTEXT);
}

TEST_F(ControlQueueTest, AttentionIsPosted) {
  auto q = make(1);
  q->peer_needs_attention(42);
  ASSERT_TRUE(run_until([&] { return attention_.size() == 1; }));
  EXPECT_EQ(attention_[0], 42u);
}

// Two workers flood while the control thread drains: every message accepted
// is delivered once, in its producer's order; the refused ones are the
// counted drops; the bound holds throughout; nothing is left behind.
TEST_F(ControlQueueTest, TwoProducersFloodWhileTheControlThreadDrains) {
  auto q = make(3);  // two workers and the control thread's own slot
  constexpr uint32_t PER_PRODUCER = 100'000;
  std::vector<std::vector<uint32_t>> accepted(2);
  std::atomic<int> finished{0};
  std::atomic<bool> over_bound{false};
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p)
    producers.emplace_back([&, p] {
      for (uint32_t s = 0; s < PER_PRODUCER; ++s) {
        if (deliver(*q, p, s)) accepted[size_t(p)].push_back(s);
        if (q->queued() > ControlQueue::MAX_QUEUED_MESSAGES) over_bound.store(true);
        // Now and then a pause, so the rings also run dry and the control
        // thread goes to sleep and must be woken.
        if (s % 4096 == 0) std::this_thread::sleep_for(1ms);
      }
      finished.fetch_add(1);
    });
  // The control thread delivers on its own slot meanwhile.
  uint32_t own = 0;
  size_t own_accepted = 0;
  const bool drained = run_until([&] {
    for (int i = 0; i < 10 && own < 1000; ++i) own_accepted += deliver(*q, 2, own++);
    return finished.load() == 2 && q->queued() == 0;
  }, 120s);
  for (auto& t : producers) t.join();
  ASSERT_TRUE(drained) << "queued " << q->queued();

  std::vector<std::vector<uint32_t>> got(3);
  for (const Got& r : received_) got[size_t(r.producer)].push_back(r.seq);
  EXPECT_EQ(got[0], accepted[0]);  // once each, in order
  EXPECT_EQ(got[1], accepted[1]);
  EXPECT_EQ(got[2].size(), own_accepted);
  EXPECT_FALSE(over_bound.load());
  const size_t dropped = 2 * PER_PRODUCER - accepted[0].size() - accepted[1].size();
  std::printf("flood: %zu delivered, %zu dropped as full\n", accepted[0].size() + accepted[1].size(), dropped);
  EXPECT_GT(accepted[0].size() + accepted[1].size(), 0u);
}

// No lost wake-up: one message at a time, each waited for by its producer,
// with the control thread on a thread of its own and asleep between them.
TEST_F(ControlQueueTest, EveryLoneMessageWakesTheControlThread) {
  std::atomic<uint32_t> delivered{0};
  auto q2 = ControlQueue::create(
      io_, 1,
      ControlQueue::Handlers{.handshake = [&](ByteSpan, const UdpEndpoint&, uint64_t) { delivered.fetch_add(1); },
                             .control = [&](uint64_t, ByteSpan) { delivered.fetch_add(1); },
                             .attention = [](uint64_t) {}});
  ASSERT_TRUE(q2);
  std::thread control([&] { io_.run(); });  // the queues' waits keep it running
  bool lost = false;
  for (uint32_t s = 0; s < 20'000 && !lost; ++s) {
    ASSERT_TRUE(deliver(**q2, 0, s));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (delivered.load() != s + 1)
      if (std::chrono::steady_clock::now() > deadline) {
        lost = true;
        break;
      }
  }
  io_.stop();
  control.join();
  EXPECT_FALSE(lost) << "a message waited for a wake-up that never came (after " << delivered.load() << ")";
}

// Positions wrap, so a long run writes every slot of a ring; handled slots
// go back to the kernel a page at a time whenever a drain empties the ring,
// so what stays resident is what is in flight, not every slot ever used. A
// flood's pages stay until quiet traffic passes over them: messages one at a
// time and in short bursts, many times round both rings; at the end at most
// the one page holding an unreleased slot stays resident per ring.
TEST_F(ControlQueueTest, HandledSlotsDoNotStayResident) {
  auto q = make(2);
  EXPECT_EQ(q->resident_bytes(), 0u);
  // The loop's ready work only (run_until waits 5 ms a turn).
  auto drain = [&](size_t want) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (received_.size() != want && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.poll();
    }
    return received_.size() == want;
  };
  uint32_t seq = 0;
  // A flood first: a full ring, drained while it is still being refilled, so
  // its pages stay (giving them back then would cost the producer faults).
  for (int i = 0; i < ControlQueue::RING_SLOTS; ++i) ASSERT_TRUE(deliver(*q, 0, seq++));
  ASSERT_TRUE(drain(received_.size() + size_t(ControlQueue::RING_SLOTS)));
  std::printf("after a flood of %d: %zu bytes resident\n", ControlQueue::RING_SLOTS, q->resident_bytes());
  EXPECT_GE(q->resident_bytes(), size_t(ControlQueue::RING_SLOTS) * 2048 / 2);
  // Then quiet traffic, one message or a short burst at a time, each drained.
  for (int round = 0; round < 2 * ControlQueue::RING_SLOTS; ++round) {  // each ring round about 4 times
    const int burst = 1 + round % 7;
    for (int i = 0; i < burst; ++i) ASSERT_TRUE(deliver(*q, round % 2, seq++));
    ASSERT_TRUE(drain(received_.size() + size_t(burst)));
  }
  for (uint32_t i = 0; i < seq; ++i) ASSERT_EQ(received_[i].seq, i);
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  std::printf("%u messages through 2 rings of 1 MB; resident at the end: %zu bytes\n", seq, q->resident_bytes());
  EXPECT_LE(q->resident_bytes(), 2 * page);
  // A ring still takes RING_SLOTS - 1 messages at least (one slot may wait
  // for its page partner), and they arrive whole in the fresh pages.
  int accepted = 0;
  for (int i = 0; i < ControlQueue::RING_SLOTS; ++i) accepted += deliver(*q, 0, seq + uint32_t(i));
  EXPECT_GE(accepted, ControlQueue::RING_SLOTS - 1);
  const size_t want = received_.size() + size_t(accepted);
  ASSERT_TRUE(drain(want));
  for (int i = 0; i < accepted; ++i) EXPECT_EQ(received_[want - size_t(accepted) + size_t(i)].seq, seq + uint32_t(i));
}

}  // namespace zeq
