#include "mesh/cover_scheduler.hpp"

#include <algorithm>
#include <cstdint>

#include "mesh/session_manager.hpp"

namespace zeq {

namespace {
// A schedule further behind than this (a stopped process, a suspend) starts
// again rather than bursting to catch up.
constexpr int64_t RESTART_WHEN_BEHIND_NS = 1'000'000'000;
}  // namespace

CoverScheduler::CoverScheduler(DataPlane& plane, SessionManager& sessions, RandomSource& random)
    : plane_(plane), sessions_(sessions), random_(random) {}

int64_t CoverScheduler::run(int64_t now_ns) {
  // Uniform in (0, 1], for the probabilistic schedule's exponential gaps.
  auto uniform_open01 = [this] { return (double(random_.uniform(UINT32_MAX)) + 1.0) / (double(UINT32_MAX) + 1.0); };
  int64_t wake = now_ns + SessionManager::TICK_US * 1000;
  for (const auto& p : plane_.peers) {
    if (p->cover_mode == CoverMode::kOff || !p->current_owned) {
      p->cover.reset();
      continue;
    }
    if (p->cover && now_ns - p->cover->next_due_ns() > RESTART_WHEN_BEHIND_NS) p->cover.reset();
    if (!p->cover) p->cover.emplace(p->cover_mode, now_ns, uniform_open01);
    while (p->cover->next_due_ns() <= now_ns) {
      if (size_t sent = sessions_.send_cover(*p, now_ns / 1000)) {
        ++p->cover_tx_packets;
        p->cover_tx_bytes += sent;
        p->cover_last_sent_ns = now_ns;
        p->cover_last_due_ns = p->cover->next_due_ns();
      }
      p->cover->advance();
    }
    wake = std::min(wake, p->cover->next_due_ns());
  }
  return wake;
}

}  // namespace zeq
