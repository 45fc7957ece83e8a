#include "mesh/exit_offers.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "mesh/session_manager.hpp"
#include "protocol/control_message.hpp"

namespace zeq {

namespace {

std::string families_text(uint8_t f) {
  std::string out;
  if (f & EXIT_IPV4) out = "IPv4";
  if (f & EXIT_IPV6) out += out.empty() ? "IPv6" : " and IPv6";
  return out.empty() ? "nothing" : out;
}

}  // namespace

uint8_t ExitOffers::offered_to(const std::string& zid) const {
  return std::find(offer_.zids.begin(), offer_.zids.end(), zid) != offer_.zids.end() ? offer_.families : 0;
}

uint8_t ExitOffers::received_from(const std::string& zid) const {
  auto it = received_.find(zid);
  return it == received_.end() ? 0 : it->second;
}

void ExitOffers::set_offer(const ExitOfferSettings& offer, const std::vector<std::unique_ptr<Peer>>& peers, int64_t now_us) {
  const ExitOfferSettings before = offer_;
  offer_ = offer;
  for (const auto& p : peers) {
    const bool was = std::find(before.zids.begin(), before.zids.end(), p->key.zid) != before.zids.end();
    const uint8_t had = was ? before.families : 0, has = offered_to(p->key.zid);
    if (had == has || !p->current_owned) continue;
    (void)sessions_.send_plaintext(*p, now_us, encode_exit_offer({has}));
    spdlog::info("peer {}: exit offer now {} (was {})", p->label(), families_text(has), families_text(had));
  }
}

void ExitOffers::offer_to(Peer& peer, int64_t now_us) {
  if (std::find(offer_.zids.begin(), offer_.zids.end(), peer.key.zid) == offer_.zids.end()) return;
  (void)sessions_.send_plaintext(peer, now_us, encode_exit_offer({offer_.families}));  // repeated, so a loss is no error
}

void ExitOffers::on_control_message(const Peer& peer, ByteSpan plaintext) {
  auto offer = parse_exit_offer(plaintext);
  if (!offer) {
    spdlog::warn("peer {}: malformed exit offer ignored", peer.label());
    return;
  }
  uint8_t& held = received_[peer.key.zid];
  if (held != offer->families)
    spdlog::info("peer {}: offers to be an exit for {}", peer.label(), families_text(offer->families));
  held = offer->families;
  if (policy_) policy_->exit_offered(peer.label(), peer.key.zid, offer->families);
}

}  // namespace zeq
