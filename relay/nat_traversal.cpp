#include "relay/nat_traversal.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "mesh/peer.hpp"
#include "protocol/nat_type.hpp"

namespace zeq {

const char* hole_punch_phase_name(HolePunch::Phase p) {
  switch (p) {
    case HolePunch::Phase::kIdle: return "idle";
    case HolePunch::Phase::kAsked: return "asked";
    case HolePunch::Phase::kPunching: return "punching";
    case HolePunch::Phase::kDirect: return "direct";
    case HolePunch::Phase::kFailed: return "failed";
    case HolePunch::Phase::kSymmetric: return "symmetric";
  }
  return "?";
}

namespace {

// Probes whose reply has not come, per peer: enough for a punch's rounds
// over 16 candidates; the oldest go first.
constexpr size_t MAX_PROBES_OUT = 256;

}  // namespace

NatTraversal::NatTraversal(Node& node, const Clock& clock, RandomSource& random, NatTraversalSettings settings)
    : node_(node), clock_(clock), random_(random), settings_(std::move(settings)) {}

uint64_t NatTraversal::random_u64() {
  uint64_t v = 0;
  random_.fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v));
  return v;
}

bool NatTraversal::eligible(const Peer& peer) const {
  return !settings_.relay_role && !peer.settings.is_relay && !peer.admin_down && peer.settings.via == PeerPath::kAuto;
}

void NatTraversal::nat_control(Peer& peer, ByteSpan plaintext) {
  const uint8_t type = plaintext[1];
  bool ok = true;
  switch (type) {
    case CONTROL_NAT_OBSERVE:
      if (auto m = parse_nat_observe(plaintext)) on_observe(peer, *m); else ok = false;
      break;
    case CONTROL_NAT_OBSERVED:
      if (auto m = parse_nat_observed(plaintext)) on_observed(peer, *m); else ok = false;
      break;
    case CONTROL_NAT_CANDIDATES:
      if (auto m = parse_nat_candidates(plaintext)) on_candidates(peer, *m); else ok = false;
      break;
    case CONTROL_NAT_PROBE:
      if (auto m = parse_nat_probe(plaintext)) on_probe(peer, *m); else ok = false;
      break;
    case CONTROL_NAT_PROBE_REPLY:
      if (auto m = parse_nat_probe_reply(plaintext)) on_reply(peer, *m); else ok = false;
      break;
    default:
      return;
  }
  if (!ok) {
    ++counters_.malformed;
    spdlog::debug("malformed NAT traversal message {:#04x} from {} dropped", type, peer.label());
  }
}

// Anyone who reaches us directly may ask where we see it from; through a
// relay we cannot tell (the relay's address is all we see).
void NatTraversal::on_observe(Peer& peer, const NatObserve& m) {
  if (peer.route.load(std::memory_order_relaxed)) return;
  const UdpEndpoint seen = peer.endpoint.load();
  if (!nat_endpoint_usable(seen)) return;
  (void)node_.send_control(peer.serial, encode_nat_observed({m.nonce, seen}));
}

void NatTraversal::on_observed(Peer& peer, const NatObserved& m) {
  auto asked = observe_asked_.find(peer.serial);
  if (!peer.settings.is_relay || asked == observe_asked_.end() || asked->second.first != m.nonce) return;
  asked->second.first = 0;
  ++counters_.observed;
  note_observation(peer.serial, m.seen, clock_.mono_us());
}

void NatTraversal::note_observation(uint64_t observer, const UdpEndpoint& seen, int64_t now) {
  auto& o = observations_[observer];
  if (!(o.seen == seen)) {
    Peer* p = node_.peer_by_serial(observer);
    spdlog::info("{} sees this node at {}", p ? p->label() : "a peer", seen.to_string());
  }
  o.seen = seen;
  o.at_us = now;
}

std::vector<UdpEndpoint> NatTraversal::reported_endpoints() const {
  std::vector<UdpEndpoint> out;
  for (const auto& [serial, o] : observations_)
    if (std::find(out.begin(), out.end(), o.seen) == out.end()) out.push_back(o.seen);
  return out;
}

NatType NatTraversal::nat_type() const {
  std::vector<UdpEndpoint> seen;
  for (const auto& [serial, o] : observations_) seen.push_back(o.seen);
  return classify_nat(seen, settings_.local_endpoints ? settings_.local_endpoints() : std::vector<UdpEndpoint>{});
}

std::vector<UdpEndpoint> NatTraversal::own_candidates() const {
  std::vector<UdpEndpoint> out;
  auto add = [&](const UdpEndpoint& ep) {
    if (out.size() < NAT_MAX_CANDIDATES && nat_endpoint_usable(ep) && std::find(out.begin(), out.end(), ep) == out.end())
      out.push_back(ep);
  };
  // What others see first: across NATs those are the ones that work.
  for (const auto& ep : reported_endpoints()) add(ep);
  if (settings_.local_endpoints)
    for (const auto& ep : settings_.local_endpoints()) add(ep);
  return out;
}

void NatTraversal::send_candidates(Peer& peer, PeerState& st, bool answer) {
  NatCandidates m;
  m.token = st.token;
  m.answer = answer;
  m.nat = nat_type();
  m.candidates = own_candidates();
  if (node_.send_control(peer.serial, encode_nat_candidates(m))) ++counters_.candidates_sent;
}

void NatTraversal::send_probe(Peer& peer, PeerState& st, const UdpEndpoint& to) {
  const uint64_t nonce = random_u64();
  if (st.probes.size() >= MAX_PROBES_OUT) st.probes.erase(st.probes.begin());
  st.probes[nonce] = to;
  if (node_.send_control_direct(peer.serial, encode_nat_probe({st.token, nonce}), to)) ++counters_.probes_sent;
}

void NatTraversal::on_candidates(Peer& peer, const NatCandidates& m) {
  if (!eligible(peer)) return;
  ++counters_.candidates_received;
  PeerState& st = peers_[peer.serial];
  const int64_t now = clock_.mono_us();
  if (m.answer) {
    // Our own request's answer (or, both having asked at once, the other's).
    if (st.punch.phase() != HolePunch::Phase::kAsked && st.punch.phase() != HolePunch::Phase::kPunching) return;
  } else {
    st.token = m.token;
    send_candidates(peer, st, true);
  }
  st.theirs = m.candidates;
  st.their_nat = m.nat;
  if (!punch_worthwhile(nat_type(), m.nat)) {
    if (st.punch.phase() != HolePunch::Phase::kSymmetric)
      spdlog::info("peer {}: both ends behind symmetric NATs; staying relayed (no hole punching)", peer.label());
    st.punch.symmetric(now);
    return;
  }
  if (!peer.route.load(std::memory_order_relaxed)) return;  // direct already
  if (st.punch.phase() == HolePunch::Phase::kPunching) return;
  // A peer's requests start a punch at most once per RETRY_FIRST_US (our
  // own attempts back off the same way): a member cannot keep this node
  // probing addresses of its choosing.
  if (!m.answer && st.punch.phase() != HolePunch::Phase::kAsked && st.punch_started_us != 0 &&
      now - st.punch_started_us < HolePunch::RETRY_FIRST_US)
    return;
  spdlog::info("peer {}: punching towards {} candidate endpoints (its NAT: {})", peer.label(), m.candidates.size(),
               nat_type_name(m.nat));
  st.punch.start_punching(now);
  st.punch_started_us = now;
}

// A probe came (straight: probes are never relayed, and the worker moved
// the peer's endpoint to where it came from): the reply goes straight back.
void NatTraversal::on_probe(Peer& peer, const NatProbe& m) {
  ++counters_.probes_received;
  const UdpEndpoint from = peer.endpoint.load();
  if (!nat_endpoint_usable(from)) return;
  (void)node_.send_control_direct(peer.serial, encode_nat_probe_reply({m.nonce, from}), from);
}

// A reply to one of our probes: it went straight both ways, so the direct
// path works now.
void NatTraversal::on_reply(Peer& peer, const NatProbeReply& m) {
  if (!eligible(peer)) return;
  auto found = peers_.find(peer.serial);
  if (found == peers_.end()) return;
  PeerState& st = found->second;
  auto probe = st.probes.find(m.nonce);
  if (probe == st.probes.end()) return;  // not ours, or answered already
  st.probes.erase(probe);
  ++counters_.replies_received;
  const int64_t now = clock_.mono_us();
  note_observation(peer.serial, m.seen, now);
  if (st.punch.phase() == HolePunch::Phase::kDirect) {
    st.punch.reply(now);
    return;
  }
  if (st.punch.phase() == HolePunch::Phase::kFailed && now < st.punch.retry_at_us()) return;  // a late reply
  st.punch.direct(now);
  ++st.upgrades;
  ++counters_.upgrades;
  if (peer.route.load(std::memory_order_relaxed)) node_.use_relay_route(peer, 0);
  spdlog::info("peer {}: hole punched, packets go directly to {} (the relay pair stays as a standby)", peer.label(),
               peer.endpoint.load().to_string());
}

void NatTraversal::fall_back(Peer& peer, PeerState& st, int64_t now, const char* why) {
  st.punch.fail(now);
  st.died_us = now;
  ++st.fallbacks;
  ++counters_.fallbacks;
  if (!peer.route.load(std::memory_order_relaxed) && !peer.relay_routes.empty())
    node_.use_relay_route(peer, peer.relay_routes.back()->id);
  spdlog::warn("peer {}: direct path lost ({}); back through the relay, punching again in {} s", peer.label(), why,
               (st.punch.retry_at_us() - now) / 1'000'000);
}

bool NatTraversal::keep_pair(const Peer& peer) const {
  auto it = peers_.find(peer.serial);
  if (it == peers_.end()) return false;
  return it->second.punch.phase() == HolePunch::Phase::kDirect ||
         (it->second.token != 0 && !peer.route.load(std::memory_order_relaxed));
}

bool NatTraversal::direct_died(const Peer& peer) const {
  auto it = peers_.find(peer.serial);
  if (it == peers_.end()) return false;
  return it->second.punch.phase() == HolePunch::Phase::kFailed && it->second.died_us != 0 &&
         clock_.mono_us() - it->second.died_us < HolePunch::RETRY_FIRST_US;
}

void NatTraversal::observe_relays(int64_t now) {
  for (Peer* p : node_.peers()) {
    if (!p->settings.is_relay || p->admin_down || !p->current.load(std::memory_order_relaxed)) continue;
    auto& [nonce, sent] = observe_asked_[p->serial];
    const bool seen = observations_.count(p->serial) > 0;
    if (sent != 0 && now - sent < (seen ? OBSERVE_EVERY_US : TAU_ZQ_US)) continue;
    nonce = random_u64() | 1;
    sent = now;
    (void)node_.send_control(p->serial, encode_nat_observe({nonce}));
  }
}

void NatTraversal::tick_peer(Peer& peer, PeerState& st, int64_t now) {
  const bool session = peer.current.load(std::memory_order_relaxed) != nullptr;
  const RelayRoute* route = peer.route.load(std::memory_order_relaxed);
  if (session && st.accounted_us) {
    int64_t& path_us = !route ? st.direct_us
                       : route->relay->relay_over_tcp.load(std::memory_order_relaxed) ? st.relayed_tcp_us
                                                                                       : st.relayed_us;
    path_us += now - st.accounted_us;
  }
  st.accounted_us = now;
  if (!session) return;
  using P = HolePunch::Phase;
  // Moved to the direct path by the far end's probes (roaming follows the
  // arrival): from now on its liveness is ours to watch.
  if (!route && st.token != 0 && st.punch.phase() != P::kDirect &&
      (st.punch.phase() != P::kFailed || now >= st.punch.retry_at_us())) {
    st.punch.direct(now);
    ++st.upgrades;
    ++counters_.upgrades;
    spdlog::info("peer {}: its probes arrive directly; packets go directly to {}", peer.label(),
                 peer.endpoint.load().to_string());
  }
  // A direct path that died is not taken again on a stray packet before
  // the backoff is over: back to the standing relay route.
  if (!route && st.punch.phase() == P::kFailed && st.died_us != 0 && now < st.punch.retry_at_us() &&
      !peer.relay_routes.empty()) {
    node_.use_relay_route(peer, peer.relay_routes.back()->id);
    route = peer.route.load(std::memory_order_relaxed);
  }
  switch (st.punch.phase()) {
    case P::kIdle:
    case P::kFailed:
    case P::kSymmetric:
      if (route && st.punch.may_ask(now) && views_settled(now)) {
        st.token = random_u64() | 1;
        st.punch.asked(now);
        send_candidates(peer, st, false);
      }
      break;
    case P::kAsked:
      if (st.punch.timed_out(now)) st.punch.fail(now);
      break;
    case P::kPunching:
      if (!punch_worthwhile(nat_type(), st.their_nat)) {
        spdlog::info("peer {}: both ends behind symmetric NATs; staying relayed (no hole punching)", peer.label());
        st.punch.symmetric(now);
      } else if (st.punch.timed_out(now)) {
        st.punch.fail(now);
        ++counters_.punch_failures;
        spdlog::info("peer {}: no direct path after {} punch rounds; staying relayed, trying again in {} s",
                     peer.label(), st.punch.rounds(), (st.punch.retry_at_us() - now) / 1'000'000);
      } else if (st.punch.round_due(now)) {
        for (const auto& ep : st.theirs) send_probe(peer, st, ep);
      }
      break;
    case P::kDirect: {
      if (st.punch.direct_dead(now, peer.path_rtt_us)) {
        fall_back(peer, st, now, "probes unanswered");
        break;
      }
      // The far end's relayed packets (sent before it moved) pulled our
      // route back; the direct path still answers, so it is used again.
      if (route && now - st.punch.last_reply_us() < HolePunch::DIRECT_PROBE_EVERY_US) node_.use_relay_route(peer, 0);
      if (st.punch.probe_due(now)) {
        st.punch.probed(now);
        const UdpEndpoint ep = peer.endpoint.load();
        if (!ep.empty()) send_probe(peer, st, ep);
      }
      break;
    }
  }
}

// Candidates are worth sending once the relays had a chance to say where
// they see us (two views tell the NAT type), or after a few Zeqonds anyway.
bool NatTraversal::views_settled(int64_t now) const {
  size_t relays = 0;
  for (Peer* p : node_.peers())
    if (p->settings.is_relay && p->current.load(std::memory_order_relaxed)) ++relays;
  return observations_.size() >= std::min<size_t>(2, relays) || now - started_us_ > VIEWS_WAIT_US;
}

void NatTraversal::nat_tick() {
  if (settings_.relay_role) return;
  const int64_t now = clock_.mono_us();
  if (started_us_ == 0) started_us_ = now;
  for (auto it = observations_.begin(); it != observations_.end();)
    it = now - it->second.at_us > OBSERVATION_MAX_AGE_US || !node_.peer_by_serial(it->first) ? observations_.erase(it)
                                                                                              : std::next(it);
  observe_relays(now);
  if (auto reported = reported_endpoints(); reported != last_reported_) {
    last_reported_ = std::move(reported);
    if (endpoints_changed_) endpoints_changed_();
  }
  for (Peer* p : node_.peers())
    if (eligible(*p)) tick_peer(*p, peers_[p->serial], now);
  for (auto it = peers_.begin(); it != peers_.end();)
    it = node_.peer_by_serial(it->first) ? std::next(it) : peers_.erase(it);
}

void NatTraversal::addresses_changed() {
  if (settings_.relay_role) return;
  ++counters_.address_changes;
  observations_.clear();
  observe_asked_.clear();
  for (auto& [serial, st] : peers_) {
    st.punch.reset();
    st.probes.clear();
    st.punch_started_us = 0;
  }
  size_t n = 0;
  for (Peer* p : node_.peers()) {
    if (p->admin_down || !p->current.load(std::memory_order_relaxed)) continue;
    node_.handshake_now(*p);
    ++n;
  }
  spdlog::info("local addresses changed: re-handshaking {} sessions, asking relays where they see us", n);
  observe_relays(clock_.mono_us());
  if (endpoints_changed_) endpoints_changed_();
}

std::optional<NatTraversal::PeerView> NatTraversal::peer_view(uint64_t serial) const {
  auto it = peers_.find(serial);
  if (it == peers_.end()) return std::nullopt;
  const PeerState& st = it->second;
  PeerView v;
  v.phase = hole_punch_phase_name(st.punch.phase());
  v.peer_nat = nat_type_name(st.their_nat);
  for (const auto& ep : st.theirs) v.candidates.push_back(ep.to_string());
  v.direct_us = st.direct_us;
  v.relayed_us = st.relayed_us;
  v.relayed_tcp_us = st.relayed_tcp_us;
  v.upgrades = st.upgrades;
  v.fallbacks = st.fallbacks;
  if (st.punch.phase() == HolePunch::Phase::kFailed || st.punch.phase() == HolePunch::Phase::kSymmetric)
    v.retry_in_us = std::max<int64_t>(0, st.punch.retry_at_us() - clock_.mono_us());
  return v;
}

}  // namespace zeq
