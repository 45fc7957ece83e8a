#include "daemon/mesh_directory.hpp"

#include <netinet/in.h>

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "crypto/encoding.hpp"
#include "daemon/local_endpoints.hpp"
#include "directory/etcd_directory.hpp"
#include "mesh/peer.hpp"
#include "mesh/session_manager.hpp"
#include "protocol/control_message.hpp"
#include "protocol/directory_messages.hpp"

namespace zeq {

using json = nlohmann::json;

namespace {

RecordEndpoint record_endpoint(const UdpEndpoint& ep) {
  RecordEndpoint r;
  const auto* a = reinterpret_cast<const uint8_t*>(&ep.sa.sin6_addr);
  if (IN6_IS_ADDR_V4MAPPED(&ep.sa.sin6_addr)) {
    r.family = 4;
    std::memcpy(r.address.data(), a + 12, 4);
  } else {
    r.family = 6;
    std::memcpy(r.address.data(), a, 16);
  }
  r.port = ntohs(ep.sa.sin6_port);
  return r;
}

UdpEndpoint udp_endpoint(const RecordEndpoint& r) {
  UdpEndpoint ep;
  ep.sa.sin6_family = AF_INET6;
  ep.sa.sin6_port = htons(r.port);
  auto* a = reinterpret_cast<uint8_t*>(&ep.sa.sin6_addr);
  if (r.family == 4) {
    a[10] = a[11] = 0xff;
    std::memcpy(a + 12, r.address.data(), 4);
  } else {
    std::memcpy(a, r.address.data(), 16);
  }
  return ep;
}

std::string hex8(const Digest32& d) { return to_hex(ByteSpan(d.data(), 8)); }

}  // namespace

Result<std::unique_ptr<MeshDirectory>> MeshDirectory::create(Node& node, Database& db, const Clock& clock,
                                                             MeshDirectorySettings settings, Ed25519Keypair signing,
                                                             std::string own_zid) {
  std::unique_ptr<MeshDirectory> d(
      new MeshDirectory(node, db, clock, std::move(settings), std::move(signing), std::move(own_zid)));
  if (d->settings_.sync) {
    auto sync = SyncSecret::make(d->settings_.sync->secret.span(), d->settings_.sync->uid.span());
    if (!sync) return Status::error("ZEQ_SYNC_SECRET / ZEQ_SYNC_UID: " + sync.message());
    d->sync_.emplace(std::move(sync.value()));
    d->plats_ = PlatReceiver(&*d->sync_);
  }
  if (d->settings_.config.backend == DirectoryBackend::kEtcd)
    if (Status s = d->start_etcd(); !s) return s;
  return d;
}

// The backend's thread posts each event to the control thread, where the
// store lives. stop() ends that thread before the event loop goes, so no
// event outlives this object.
Status MeshDirectory::start_etcd() {
  const DirectoryConfig& c = settings_.config;
  EtcdSettings e;
  e.endpoints = c.endpoints;
  e.prefix = c.prefix;
  e.username = c.username;
  if (settings_.etcd_password)
    e.password.assign(settings_.etcd_password->span().begin(), settings_.etcd_password->span().end());
  settings_.etcd_password.reset();
  e.ca_file = c.ca_file;
  e.cert_file = c.cert_file;
  e.key_file = c.key_file;
  e.lease_ttl_s = c.lease_ttl_s;
  if (!c.username.empty() && e.password.empty())
    return Status::error("directory.username " + c.username + " needs its password: set ZEQ_ETCD_PASSWORD in the "
                         "environment or as a systemd credential");
  auto& io = node_.io();
  EtcdDirectory::Callbacks cb;
  cb.snapshot = [this, &io](std::vector<std::pair<std::string, Bytes>> all) {
    boost::asio::post(io, [this, all = std::move(all)]() mutable { etcd_snapshot(std::move(all)); });
  };
  cb.put = [this, &io](std::string name, Bytes value) {
    boost::asio::post(io, [this, name = std::move(name), value = std::move(value)] {
      std::vector<std::string> accepted, dropped;
      etcd_put(name, value, accepted, dropped);
      absorb(accepted, dropped);
      trust_changed_if_lists_did();
    });
  };
  cb.deleted = [this, &io](std::string name) {
    boost::asio::post(io, [this, name = std::move(name)] { etcd_deleted(name); });
  };
  cb.connection = [this, &io](bool connected, std::string why) {
    boost::asio::post(io, [this, connected, why = std::move(why)] {
      etcd_connected_ = connected;
      etcd_why_ = why;
      if (connected) spdlog::info("directory: etcd connected ({})", why);
      else spdlog::warn("directory: etcd unreachable ({}); the directory held and the tunnels stay, and it resyncs when etcd is back", why);
    });
  };
  auto etcd = EtcdDirectory::start(std::move(e), std::move(cb));
  if (!etcd) return Status::error("directory (etcd): " + etcd.message());
  etcd_ = std::move(etcd.value());
  return Status::ok();
}

void MeshDirectory::stop() {
  etcd_.reset();  // revokes the lease: this node's record goes from etcd at once
}

// A key name is the record's ZID (node records) or "crl-" and the CA's
// fingerprint in hex (revocation lists); what the value holds decides, the
// name only lets a deletion find the record it held.
void MeshDirectory::etcd_put(const std::string& name, const Bytes& value, std::vector<std::string>& accepted,
                             std::vector<std::string>& dropped) {
  const uint64_t now_z = clock_.zeqond();
  // A node record counts only under its own ZID: otherwise any member could
  // put a copy of another node's record under a key of its choosing and
  // delete that key to make every node forget the other.
  auto rec = decode_directory_record(value);
  const bool node = rec && rec->kind == RecordKind::kNode;
  if (node && rec->node.certificate.body.zid != name) {
    ++etcd_misplaced_;
    OfferOutcome misplaced{OfferVerdict::kMalformed,
                           "the key names " + name + " but the record is " + rec->node.certificate.body.zid + "'s",
                           {}};
    log_refused("etcd key " + name, misplaced);
    return;
  }
  OfferOutcome o = store_.offer(value, now_z, "etcd");
  if (node) etcd_names_[name] = name;
  if (o.accepted()) {
    digest_.invalidate();
    if (node) accepted.push_back(name);
    dropped.insert(dropped.end(), o.dropped.begin(), o.dropped.end());
  } else {
    log_refused("etcd key " + name, o);
  }
}

// etcd is the authority on who is there: a node record it no longer has
// is gone (a node that left while this one was away), whatever brought it
// (the cache, an earlier watch).
void MeshDirectory::etcd_snapshot(std::vector<std::pair<std::string, Bytes>> all) {
  std::vector<std::string> accepted, dropped;
  etcd_names_.clear();
  std::set<std::string, std::less<>> present;
  for (const auto& [name, value] : all) {
    etcd_put(name, value, accepted, dropped);
    if (auto it = etcd_names_.find(name); it != etcd_names_.end()) present.insert(it->second);
  }
  std::vector<std::string> gone;
  for (const auto& [zid, held] : store_.records())
    if (zid != own_zid_ && !present.count(zid)) gone.push_back(zid);
  for (const auto& zid : gone) store_.remove(zid);
  if (!gone.empty()) digest_.invalidate();
  dropped.insert(dropped.end(), gone.begin(), gone.end());
  absorb(accepted, dropped);
  trust_changed_if_lists_did();
  spdlog::info("directory: etcd snapshot of {} keys; {} records held ({} gone since)", all.size(), store_.size(),
               gone.size());
}

void MeshDirectory::etcd_deleted(const std::string& name) {
  auto it = etcd_names_.find(name);
  if (it == etcd_names_.end()) return;
  const std::string zid = it->second;
  etcd_names_.erase(it);
  if (zid == own_zid_) {
    // Deleted by someone else (an operator, a compromised member): put back.
    if (const HeldRecord* own = store_.find(own_zid_); own && etcd_) etcd_->publish(own_zid_, own->record.encoded);
    return;
  }
  if (!store_.remove(zid)) return;
  digest_.invalidate();
  spdlog::info("directory: {} left (its etcd key {} is gone)", zid, name);
  absorb({}, {zid});
}

void MeshDirectory::etcd_publish_lists() {
  if (!etcd_) return;
  for (const auto& [issuer, held] : store_.revocation_lists())
    if (held.source == "config") etcd_->publish("crl-" + to_hex(issuer), held.record.encoded);
}

MeshDirectory::MeshDirectory(Node& node, Database& db, const Clock& clock, MeshDirectorySettings settings,
                             Ed25519Keypair signing, std::string own_zid)
    : node_(node), cache_(db), clock_(clock), settings_(std::move(settings)), signing_(std::move(signing)),
      own_zid_(std::move(own_zid)), store_(trust_, size_t(settings_.config.max_records)), plats_(nullptr) {}

MeshDirectory::~MeshDirectory() = default;

std::shared_ptr<const TrustSettings> MeshDirectory::merge_trust(std::shared_ptr<const TrustSettings> files) {
  files_ = files;
  TrustStore merged = files ? files->store : TrustStore{};
  // A list the directory brought stays while it is newer than the files'
  // (add_revocation_list keeps the higher serial).
  for (const auto& [issuer, held] : store_.revocation_lists()) (void)merged.add_revocation_list(held.record.revocation_list);
  trust_ = std::move(merged);
  lists_seen_ = store_.revocation_digest();
  auto out = std::make_shared<TrustSettings>();
  out->store = trust_;
  if (files) out->own = files->own;
  return out;
}

void MeshDirectory::start() {
  const uint64_t now_z = clock_.zeqond();
  std::vector<std::string> accepted;
  if (!started_) {
    started_ = true;
    last_z_ = now_z;
    // The last directory, checked again as if a stranger sent it.
    if (auto lists = cache_.load_revocation_lists()) {
      for (const auto& row : *lists) {
        auto list = decode_revocation_list(row.list);
        if (!list) continue;
        auto record = revocation_list_record(*list);
        if (record) (void)store_.offer(record->encoded, now_z, "cache");
      }
    }
    if (auto rows = cache_.load_records(settings_.config.max_records)) {
      for (const auto& row : *rows) {
        OfferOutcome o = store_.offer(row.record, now_z, "cache");
        if (o.accepted()) {
          ++cache_loaded_;
          accepted.push_back(row.zid);
        } else {
          removed_.insert(row.zid);  // no longer passes: the cache forgets it
        }
      }
    }
    if (cache_loaded_) spdlog::info("directory: {} records from the state database", cache_loaded_);
  }
  // The files' lists travel as records, so a revocation made at one node
  // reaches every node.
  if (files_) {
    for (const auto& ca : files_->store.cas()) {
      const RevocationList* list = files_->store.revocation_list(ca.fingerprint());
      if (!list) continue;
      auto record = revocation_list_record(*list);
      if (!record) continue;
      OfferOutcome o = store_.offer(record->encoded, now_z, "config");
      if (o.accepted()) absorb({}, o.dropped);
    }
  }
  absorb(accepted, store_.expire(now_z));
  trust_changed_if_lists_did();
  digest_.invalidate();
  learn_pending();
  publish_own(now_z);
  etcd_publish_lists();
  flush_cache();
}

void MeshDirectory::reloaded(const DirectoryConfig& config) {
  settings_.config.idle_timeout_z = config.idle_timeout_z;
  settings_.config.advertise = config.advertise;
  // A peer the reload took out of the YAML is still a member: the node
  // learns it again from its record.
  for (const auto& [zid, held] : store_.records())
    if (zid != own_zid_) to_learn_.insert(zid);
  start();
}

void MeshDirectory::absorb(const std::vector<std::string>& accepted, const std::vector<std::string>& dropped) {
  for (const auto& zid : accepted) {
    dirty_.insert(zid);
    removed_.erase(zid);
    if (zid != own_zid_) to_learn_.insert(zid);
  }
  if (!dropped.empty()) {
    for (const auto& zid : dropped) {
      removed_.insert(zid);
      dirty_.erase(zid);
      to_learn_.erase(zid);
    }
    node_.unlearn_peers(dropped);
    digest_.invalidate();
  }
}

void MeshDirectory::learn_pending() {
  if (to_learn_.empty()) return;
  std::vector<KnownPeer> peers;
  peers.reserve(to_learn_.size());
  for (const auto& zid : to_learn_)
    if (auto k = known_peer(zid)) peers.push_back(std::move(*k));
  to_learn_.clear();
  node_.learn_peers(peers);
}

std::optional<KnownPeer> MeshDirectory::known_peer(const std::string& zid) const {
  const HeldRecord* held = store_.find(zid);
  if (!held || held->record.kind != RecordKind::kNode) return std::nullopt;
  KnownPeer k;
  k.certificate = held->record.node.certificate;
  for (const auto& ep : held->record.node.endpoints) k.endpoints.push_back(udp_endpoint(ep));
  k.relay = held->record.node.relay_port != 0;
  return k;
}

void MeshDirectory::trust_changed_if_lists_did() {
  auto now = store_.revocation_digest();
  if (now == lists_seen_) return;
  lists_seen_ = std::move(now);
  lists_dirty_ = true;
  auto trust = std::make_shared<TrustSettings>();
  trust->store = trust_;
  if (files_) trust->own = files_->own;
  spdlog::info("directory: a newer revocation list arrived; certificates checked against it");
  node_.set_trust(std::move(trust));
  push_lists();
}

std::vector<UdpEndpoint> MeshDirectory::own_endpoints() const {
  if (!settings_.config.advertise.empty()) return settings_.config.advertise;
  return local_endpoints(settings_.listen_port, settings_.interface_name, MAX_RECORD_ENDPOINTS);
}

// A new record when the endpoints or the certificate changed, or the last
// one is getting old. The sequence never goes back, across restarts too:
// above the one held (the cache brought it back) and at least the clock's
// milliseconds (a node that lost its database still goes forward).
void MeshDirectory::publish_own(uint64_t now_z) {
  const Certificate* own = files_ && files_->own ? &*files_->own : nullptr;
  if (!own) return;  // without a certificate no node would take our record
  auto endpoints = own_endpoints();
  // What relays and peers see (NAT traversal), after the node's own, each
  // address:port once, within the record's limit.
  std::vector<UdpEndpoint> reported;
  if (reported_)
    for (const auto& ep : reported_())
      if (endpoints.size() + reported.size() < MAX_RECORD_ENDPOINTS &&
          std::find(endpoints.begin(), endpoints.end(), ep) == endpoints.end() &&
          std::find(reported.begin(), reported.end(), ep) == reported.end())
        reported.push_back(ep);
  const HeldRecord* held = store_.find(own_zid_);
  // The record held must be the one this process signed last: a stale copy
  // of our own (from the cache, a peer or etcd) is replaced at once.
  const bool same = held && held->record.encoded == last_signed_ && held->record.node.certificate.encoded == own->encoded &&
                    endpoints == published_endpoints_ && reported == published_reported_ &&
                    now_z < held->record.node.made_z + DIRECTORY_REPUBLISH_EVERY_Z;
  if (same) return;
  NodeRecord r;
  r.certificate = *own;
  for (const auto& ep : endpoints) r.endpoints.push_back(record_endpoint(ep));
  for (const auto& ep : reported) {
    r.endpoints.push_back(record_endpoint(ep));
    r.endpoints.back().flags = RECORD_ENDPOINT_REPORTED;
  }
  // A relay offers itself, with its terms, when its certificate lets it.
  if (settings_.relay_offer && (own->body.roles & CERT_ROLE_RELAY)) {
    r.relay_port = settings_.listen_port;
    r.relay_terms = true;
    r.relay_unit = settings_.relay_offer->unit;
    r.relay_price = settings_.relay_offer->price;
    r.relay_region = settings_.relay_offer->region;
  }
  const uint64_t ms = clock_.unix_us() / 1000;
  r.sequence = std::max(held ? held->record.node.sequence + 1 : 1, ms);
  r.made_z = now_z;
  auto signed_record = sign_node_record(std::move(r), signing_);
  if (!signed_record) {
    publish_failed("this node's record cannot be made: " + signed_record.message() +
                   (settings_.config.advertise.empty() ? "" : "; check directory.advertise"));
    return;
  }
  OfferOutcome o = store_.offer(signed_record->encoded, now_z, "self");
  if (!o.accepted()) {
    publish_failed("this node's own record was refused (" + std::string(offer_verdict_name(o.verdict)) + ": " +
                   o.detail + "); check mesh.certificate and the clock");
    return;
  }
  last_signed_ = signed_record->encoded;
  last_publish_failure_.clear();
  removed_.erase(own_zid_);
  ++published_;
  published_endpoints_ = endpoints;
  published_reported_ = reported;
  for (const auto& ep : reported) endpoints.push_back(ep);  // for the log line
  if (etcd_) etcd_->publish(own_zid_, signed_record->encoded);
  digest_.invalidate();
  dirty_.insert(own_zid_);
  std::string where;
  for (const auto& ep : endpoints) where += (where.empty() ? "" : ", ") + ep.to_string();
  spdlog::info("directory: published this node's record (sequence {}, endpoints {})", signed_record->node.sequence,
               where.empty() ? "none" : where);
  for (auto& [zid, link] : links_)
    if (link.up) link.gossip->push(own_zid_);
}

void MeshDirectory::republish_now() {
  if (started_) publish_own(clock_.zeqond());
}

void MeshDirectory::push_lists() {
  for (const auto& [issuer, held] : store_.revocation_lists())
    for (auto& [zid, link] : links_)
      if (link.up) link.gossip->push_revocation_list(issuer);
}

// Each reason once (a Zeqond's retry of the same failure is not news).
void MeshDirectory::publish_failed(const std::string& why) {
  ++publish_failures_;
  if (why == last_publish_failure_) return;
  last_publish_failure_ = why;
  spdlog::warn("directory: {}", why);
}

void MeshDirectory::tick() {
  const uint64_t now_z = clock_.zeqond();
  if (now_z != last_z_) {
    last_z_ = now_z;
    once_per_zeqond(now_z);
  }
  ++ticks_;
  learn_pending();
  if (!gossiping()) return;
  // Gossip runs over the links to YAML peers and to whoever gossips with
  // us, not over every on-demand tunnel (which then goes idle when its
  // traffic stops: SessionManager::idle_known_peers). A node none of whose
  // YAML peers is reachable gossips over every tunnel it has.
  auto active = [now_z](const GossipLink& l) {
    return l.up && (l.anchor || l.heard_z + GOSSIP_PEER_HASH_FRESH_Z >= now_z);
  };
  const bool any_active = std::any_of(links_.begin(), links_.end(), [&](const auto& kv) { return active(kv.second); });
  for (auto& [zid, link] : links_) {
    if (!link.up || (any_active && !active(link))) continue;
    for (const Bytes& msg : link.gossip->tick(now_z))
      if (!node_.send_control(link.serial, msg)) ++link.messages_unsent;
  }
}

void MeshDirectory::once_per_zeqond(uint64_t now_z) {
  if (refused_unlogged_ && refused_logged_z_ != now_z) {
    spdlog::warn("directory: {} more records refused in Zeqond {} (by reason: zeqvpnctl directory)", refused_unlogged_,
                 refused_logged_z_);
    refused_unlogged_ = 0;
  }
  auto dropped = store_.expire(now_z);
  if (!dropped.empty()) {
    for (const auto& zid : dropped) spdlog::info("directory: record of {} dropped (expired or no longer trusted)", zid);
    absorb({}, dropped);
  }
  publish_own(now_z);
  flush_cache();
}

void MeshDirectory::flush_cache() {
  if (dirty_.empty() && removed_.empty() && !lists_dirty_) return;
  std::vector<CachedRecord> rows;
  for (const auto& zid : dirty_) {
    const HeldRecord* held = store_.find(zid);
    if (!held) continue;
    rows.push_back({zid, held->record.node.sequence, held->record.encoded, held->received_z, held->source});
  }
  Status s = cache_.save_records(rows);
  for (const auto& zid : removed_)
    if (s) s = cache_.remove_record(zid);
  if (s && lists_dirty_) {
    for (const auto& [issuer, held] : store_.revocation_lists()) {
      const RevocationList& list = held.record.revocation_list;
      if (s) s = cache_.save_revocation_list({Bytes(issuer.begin(), issuer.end()), list.serial, list.encoded});
    }
  }
  if (!s) {
    // Kept dirty: the next Zeqond tries again.
    if (cache_failures_++ % 64 == 0) spdlog::warn("directory: the state database refused the directory: {}", s.message());
    return;
  }
  ++cache_writes_;
  dirty_.clear();
  removed_.clear();
  lists_dirty_ = false;
}

void MeshDirectory::tunnel_up(Peer& peer) {
  auto it = links_.find(peer.key.zid);
  if (it == links_.end()) {
    // Links of peers long gone make room (the PLAT heads stay in plats_).
    if (links_.size() >= 4096)
      for (auto j = links_.begin(); j != links_.end();) j = j->second.up ? std::next(j) : links_.erase(j);
    GossipContext ctx{store_, digest_, plats_, sync_ ? &*sync_ : nullptr};
    it = links_.emplace(peer.key.zid, GossipLink{std::make_unique<GossipPeer>(ctx, peer.key.zid)}).first;
  }
  it->second.serial = peer.serial;
  it->second.up = true;
  it->second.anchor = !peer.certified_only;
}

void MeshDirectory::tunnel_down(Peer& peer, const char*) {
  if (auto it = links_.find(peer.key.zid); it != links_.end()) it->second.up = false;
}

void MeshDirectory::control_message(Peer& peer, ByteSpan plaintext) {
  auto type = control_type(plaintext);
  if (type != CONTROL_DIRECTORY_DIGEST && type != CONTROL_DIRECTORY_PULL && type != CONTROL_DIRECTORY_RECORDS) {
    spdlog::debug("peer {}: control message of unknown type {} ignored", peer.label(), type ? int(*type) : -1);
    return;
  }
  if (!gossiping()) return;  // etcd holds the directory; tunnels carry none of it
  auto it = links_.find(peer.key.zid);
  if (it == links_.end() || !it->second.up) {
    tunnel_up(peer);  // a message under a session the node has not announced yet
    it = links_.find(peer.key.zid);
  }
  GossipLink& link = it->second;
  const uint64_t now_z = clock_.zeqond();
  link.heard_z = now_z;
  auto out = link.gossip->on_message(plaintext, now_z);
  if (!out) {
    spdlog::debug("peer {}: directory message dropped: {}", peer.label(), out.message());
    return;
  }
  for (const Bytes& msg : out->replies)
    if (!node_.send_control(link.serial, msg)) ++link.messages_unsent;
  if (out->plat && plat_flagged(*out->plat) && plat_flags_logged_z_ != now_z) {
    plat_flags_logged_z_ = now_z;  // at most one line a Zeqond; the counters keep every one
    spdlog::warn("directory: tick from {}: PLAT chain {} (a lost tick, a replayed or forged one, or its clock went "
                 "back; counted in `zeqvpnctl directory`)",
                 peer.label(), plat_verdict_name(*out->plat));
  }
  for (const auto& refused : out->refused) log_refused(peer.label(), refused);
  // A fresh change spreads to every other peer within a tick.
  for (const auto& zid : out->accepted) {
    const HeldRecord* held = store_.find(zid);
    if (!held || held->record.node.made_z + DIRECTORY_PUSH_FRESH_Z < now_z) continue;
    for (auto& [other, l] : links_)
      if (l.up && other != peer.key.zid && other != zid) l.gossip->push(zid);
  }
  absorb(out->accepted, out->dropped);
  trust_changed_if_lists_did();
}

void MeshDirectory::log_refused(const std::string& from, const OfferOutcome& o) {
  // Replays and records no newer than held are the normal traffic of
  // anti-entropy (two peers offering the same record): counted, not logged.
  if (o.verdict == OfferVerdict::kReplayed || o.verdict == OfferVerdict::kNotNewer) return;
  // A few lines a Zeqond, then a count: a peer sending thousands of forged
  // records must not flood the log (each line names a different ZID, so the
  // log's own limiter sees them as different lines).
  const uint64_t now_z = clock_.zeqond();
  if (now_z != refused_logged_z_) {
    if (refused_unlogged_)  // not yet said by once_per_zeqond
      spdlog::warn("directory: {} more records refused in Zeqond {} (by reason: zeqvpnctl directory)", refused_unlogged_,
                   refused_logged_z_);
    refused_logged_z_ = now_z;
    refused_logged_ = refused_unlogged_ = 0;
  }
  if (++refused_logged_ > DIRECTORY_REFUSALS_LOGGED_PER_Z) {
    ++refused_unlogged_;
    return;
  }
  const bool clock = o.verdict == OfferVerdict::kFromTheFuture || o.verdict == OfferVerdict::kTooOld;
  spdlog::warn("directory: record from {} refused ({}): {}{}", from, offer_verdict_name(o.verdict), o.detail,
               clock ? "; check both nodes' clocks (NTP)" : "");
}

json MeshDirectory::report() const {
  const uint64_t now_z = clock_.zeqond();
  json records = json::array();
  for (const auto& [zid, held] : store_.records()) {
    const NodeRecord& r = held.record.node;
    json eps = json::array();
    for (const auto& ep : r.endpoints) eps.push_back(ep.to_string());
    json roles = json::array();
    if (r.certificate.body.roles & CERT_ROLE_NODE) roles.push_back("node");
    if (r.certificate.body.roles & CERT_ROLE_RELAY) roles.push_back("relay");
    json addresses = json::array();
    for (const auto& a : r.certificate.body.addresses) addresses.push_back(a.to_string());
    records.push_back({{"zid", zid},
                       {"name", r.certificate.body.name},
                       {"self", zid == own_zid_},
                       {"sequence", r.sequence},
                       {"made_z", r.made_z},
                       {"age_z", now_z >= r.made_z ? now_z - r.made_z : 0},
                       {"received_z", held.received_z},
                       {"source", held.source},
                       {"verification", "verified"},  // the store holds nothing else
                       {"certificate_expires_z", r.certificate.body.not_after_z},
                       {"issuer", hex8(r.certificate.body.issuer)},
                       {"addresses", addresses},
                       {"roles", roles},
                       {"endpoints", eps},
                       {"relay", r.relay_port == 0 ? json(nullptr)
                                 : r.relay_terms ? json{{"port", r.relay_port}, {"unit", to_string(r.relay_unit)},
                                                        {"price", r.relay_price}, {"region", r.relay_region}}
                                                 : json{{"port", r.relay_port}}}});
  }
  json lists = json::array();
  for (const auto& [issuer, held] : store_.revocation_lists())
    lists.push_back({{"issuer", hex8(issuer)},
                     {"serial", held.record.revocation_list.serial},
                     {"entries", held.record.revocation_list.certificates.size() + held.record.revocation_list.keys.size()},
                     {"source", held.source}});
  json offers = json::object(), drops = json::object();
  for (size_t v = 0; v < OFFER_VERDICT_COUNT; ++v) {
    offers[offer_verdict_name(OfferVerdict(v))] = store_.count(OfferVerdict(v));
    if (store_.dropped_count(OfferVerdict(v))) drops[offer_verdict_name(OfferVerdict(v))] = store_.dropped_count(OfferVerdict(v));
  }
  json plat = json::object();
  for (size_t v = 0; v < PLAT_VERDICT_COUNT; ++v) plat[plat_verdict_name(PlatVerdict(v))] = plats_.count(PlatVerdict(v));
  json peers = json::array();
  const Digest32& ours = digest_.get(store_, now_z);
  for (const auto& [zid, link] : links_) {
    const GossipStats& s = link.gossip->stats();
    const auto& theirs = link.gossip->peer_digest_hash();
    peers.push_back({{"zid", zid},
                     {"up", link.up},
                     {"in_sync", theirs.has_value() && *theirs == ours},
                     {"their_records", link.gossip->peer_record_count()},
                     {"ticks", s.ticks},
                     {"pulls_sent", s.pulls_sent},
                     {"records_received", s.records_received},
                     {"records_sent", s.records_sent},
                     {"malformed_messages", s.malformed_messages},
                     {"over_budget", s.over_budget},
                     {"outstanding", link.gossip->outstanding()},
                     {"queued", link.gossip->queued()},
                     {"unsent", link.messages_unsent}});
  }
  json etcd = nullptr;
  if (etcd_) {
    EtcdStatus e = etcd_->status();
    etcd = {{"connected", e.connected},       {"endpoint", e.endpoint},       {"revision", e.revision},
            {"puts", e.puts},                 {"put_errors", e.put_errors},   {"watch_events", e.watch_events},
            {"reconnects", e.reconnects},     {"resyncs", e.resyncs},         {"snapshots", e.snapshots},
            {"keepalives", e.keepalives},     {"lease_grants", e.lease_grants}, {"malformed", e.malformed},
            {"dropped", e.dropped},           {"last_error", e.last_error},   {"keys", etcd_names_.size()},
            {"misplaced_records", etcd_misplaced_}};
  }
  return {{"backend", settings_.config.backend == DirectoryBackend::kEtcd ? "etcd" : "embedded"},
          {"etcd", etcd},
          {"zid", own_zid_},
          {"records_held", store_.size()},
          {"max_records", store_.max_records()},
          {"digest", hex8(ours)},
          {"published", published_},
          {"plat", {{"secret", sync_.has_value()}, {"verdicts", plat}}},
          {"offers", offers},
          {"dropped", drops},
          {"cache", {{"loaded", cache_loaded_}, {"writes", cache_writes_}, {"failures", cache_failures_}}},
          {"records", records},
          {"revocation_lists", lists},
          {"gossip", peers}};
}

std::string MeshDirectory::metrics() const {
  std::string t;
  auto line = [&t](const std::string& s) { t += s + "\n"; };
  line("# HELP zeqvpn_directory_records Node records this node holds in its mesh directory.");
  line("# TYPE zeqvpn_directory_records gauge");
  line("zeqvpn_directory_records " + std::to_string(store_.size()));
  line("# HELP zeqvpn_directory_offers_total Records offered to the directory, by verdict (all but accepted are rejects).");
  line("# TYPE zeqvpn_directory_offers_total counter");
  for (size_t v = 0; v < OFFER_VERDICT_COUNT; ++v)
    line(std::string("zeqvpn_directory_offers_total{verdict=\"") + offer_verdict_name(OfferVerdict(v)) + "\"} " +
         std::to_string(store_.count(OfferVerdict(v))));
  uint64_t ticks = 0, received = 0, sent = 0, malformed = 0;
  for (const auto& [zid, link] : links_) {
    const GossipStats& s = link.gossip->stats();
    ticks += s.ticks;
    received += s.records_received;
    sent += s.records_sent;
    malformed += s.malformed_messages;
  }
  line("# HELP zeqvpn_directory_sync_rounds_total Digest ticks sent to gossip peers.");
  line("# TYPE zeqvpn_directory_sync_rounds_total counter");
  line("zeqvpn_directory_sync_rounds_total " + std::to_string(ticks));
  line("# HELP zeqvpn_directory_records_received_total Records received from gossip peers.");
  line("# TYPE zeqvpn_directory_records_received_total counter");
  line("zeqvpn_directory_records_received_total " + std::to_string(received));
  line("# HELP zeqvpn_directory_records_sent_total Records sent to gossip peers.");
  line("# TYPE zeqvpn_directory_records_sent_total counter");
  line("zeqvpn_directory_records_sent_total " + std::to_string(sent));
  line("# HELP zeqvpn_directory_malformed_messages_total Directory messages from peers that did not decode.");
  line("# TYPE zeqvpn_directory_malformed_messages_total counter");
  line("zeqvpn_directory_malformed_messages_total " + std::to_string(malformed));
  line("# HELP zeqvpn_directory_plat_ticks_total Digest ticks received, by PLAT chain verdict.");
  line("# TYPE zeqvpn_directory_plat_ticks_total counter");
  for (size_t v = 0; v < PLAT_VERDICT_COUNT; ++v)
    line(std::string("zeqvpn_directory_plat_ticks_total{verdict=\"") + plat_verdict_name(PlatVerdict(v)) + "\"} " +
         std::to_string(plats_.count(PlatVerdict(v))));
  return t;
}

}  // namespace zeq
