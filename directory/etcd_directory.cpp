#include <utility>  // before Boost.Asio (ARCHITECTURE.md: Boost 1.74 with GCC 12)

#include "directory/etcd_directory.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "crypto/secret_bytes.hpp"
#include "directory/etcd_client.hpp"
#include "directory/etcd_json.hpp"

namespace zeq {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Bounds on what etcd may make this node hold.
constexpr size_t MAX_ANSWER_BYTES = 1 << 20;           // any answer but a range page
constexpr size_t MAX_RANGE_PAGE_BYTES = 64u << 20;     // a page of the snapshot
constexpr size_t MAX_WATCH_LINE_BYTES = 8u << 20;      // one watch answer (fragmented by etcd above ~1.5 MiB)
constexpr size_t MAX_SNAPSHOT_KEYS = 1'000'000;
constexpr int64_t RANGE_PAGE_KEYS = 128;               // quartered while pages come back too large
// Between rounds of tries once every endpoint failed: doubling from 100 ms
// up to 1.5 s, so that etcd back after an outage (every member down) is
// found again within 1.5 s plus a round of connects (a new node is in every
// directory within 5 Zeqonds, 3.9 s, of the cluster being healthy again).
constexpr milliseconds FIRST_BACKOFF{100};
constexpr milliseconds MAX_BACKOFF{1500};
// What the destructor allows itself: the lease revoke, then the thread's end.
constexpr milliseconds REVOKE_TIMEOUT{600};
constexpr milliseconds STOP_WAIT{850};

// gRPC status codes etcd answers with.
constexpr int64_t CODE_INVALID_ARGUMENT = 3;
constexpr int64_t CODE_NOT_FOUND = 5;
constexpr int64_t CODE_PERMISSION_DENIED = 7;
constexpr int64_t CODE_UNAUTHENTICATED = 16;

}  // namespace

// capacity, not size: a moved-from short string keeps its characters in
// its own (inline) buffer.
EtcdSettings::~EtcdSettings() { secure_wipe(password.data(), password.capacity()); }

struct EtcdDirectory::Impl {
  Impl(EtcdSettings s, Callbacks callbacks, std::vector<EtcdEndpoint> endpoints, std::shared_ptr<EtcdTlsContext> tls)
      : settings(std::move(s)),
        cb(std::move(callbacks)),
        key_prefix(settings.prefix + "/"),
        range_end(etcd::prefix_range_end(key_prefix)),
        unary(io, endpoints, tls, milliseconds(settings.timeout_ms)),
        watch(io, endpoints, tls, milliseconds(settings.timeout_ms)),
        retry_timer(io),
        keepalive_timer(io),
        grace_timer(io),
        work(asio::make_work_guard(io)) {
    st.endpoint = unary.endpoint().url;
    unary.set_dead_path_timeout(dead_path_timeout());
    watch.set_dead_path_timeout(dead_path_timeout());
  }

  // A connection whose path died (sent data unacknowledged) ends after
  // ttl/3 at most: the lease is kept alive every ttl/3, so a keep-alive (or
  // a put it waits behind) stuck on a dead path is given up, and the lease
  // renewed through a new session, before the lease can expire. Never more
  // than the request timeout.
  milliseconds dead_path_timeout() const {
    return std::min(milliseconds(settings.timeout_ms), milliseconds(settings.lease_ttl_s * 1000 / 3));
  }

  // Declared first: destroyed last, after the clients (whose handlers it
  // still holds) and the state the handlers refer to.
  asio::io_context io;
  EtcdSettings settings;
  Callbacks cb;
  const std::string key_prefix;
  const std::string range_end;
  EtcdClient unary;  // lease, puts, deletes, snapshot, auth
  EtcdClient watch;  // the watch stream, on the same endpoint
  asio::steady_timer retry_timer, keepalive_timer, grace_timer;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
  std::atomic<bool> stopping{false};

  // ---- the io thread's own state
  uint64_t session = 0;  // bumped when a session ends: older callbacks do nothing
  bool established = false;  // the watch is running (created) in this session
  bool lease_ok = false;     // the lease is known alive in this session: writes may go
  bool ever_established = false;
  enum class Reported { kUnknown, kUp, kDown } reported = Reported::kUnknown;
  std::string last_why;
  int64_t lease_id = 0;
  int64_t lease_ttl = 0;
  etcd::Header lease_header;
  uint64_t cluster_id = 0;
  int64_t last_rev = 0;
  bool need_snapshot = true;
  bool resuming = false;
  size_t failures_in_round = 0;
  milliseconds backoff = FIRST_BACKOFF;
  std::vector<std::pair<std::string, Bytes>> snap;
  int64_t snap_rev = 0;
  std::string snap_key;
  int64_t page_limit = RANGE_PAGE_KEYS;
  bool writing = false;
  Clock::time_point next_keepalive;
  std::string watch_stop;
  bool watch_keep_endpoint = false;

  // ---- shared with publishers and status()
  mutable std::mutex mu;
  std::map<std::string, Bytes> published;
  std::set<std::string> dirty;    // published, not yet written in this lease
  std::set<std::string> deletes;  // withdrawn, not yet deleted
  EtcdStatus st;

  // ------------------------------------------------------------ helpers

  std::string where() const { return "etcd at " + unary.endpoint().url; }

  template <typename F, typename... Args>
  void invoke(const F& f, Args&&... args) {
    if (stopping || !f) return;
    try {
      f(std::forward<Args>(args)...);
    } catch (const std::exception& e) {
      spdlog::error("etcd directory: a callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("etcd directory: a callback threw");
    }
  }

  template <typename F>
  void bump(F f) {
    std::lock_guard lock(mu);
    f(st);
  }

  void report(bool up, const std::string& why) {
    if (stopping) return;
    reported = up ? Reported::kUp : Reported::kDown;
    bump([&](EtcdStatus& s) { s.connected = up; });
    if (up) spdlog::info("etcd directory: {}", why);
    else spdlog::warn("etcd directory: lost etcd: {}; keeping the directory as it is and retrying", why);
    invoke(cb.connection, up, why);
  }

  // A unary call tied to the current session.
  template <typename H>
  void call(const char* path, std::string body, size_t max, H handler, bool wipe = false) {
    unary.call(path, std::move(body), max,
               [this, s = session, handler = std::move(handler)](Result<EtcdReply> r) mutable {
                 if (s != session || stopping) return;
                 handler(std::move(r));
               },
               wipe);
  }

  // The body of a good answer; otherwise why not, with etcd's code (0 when
  // none) and a hint for the codes a person can fix.
  Result<std::string> answer(Result<EtcdReply>& r, const std::string& what, int64_t& code) {
    code = 0;
    if (!r) return r.status();
    if (auto e = etcd::parse_error(r->body)) {
      code = e->code;
      std::string hint;
      if (code == CODE_UNAUTHENTICATED || e->message.find("user name is empty") != std::string::npos)
        hint = settings.username.empty() ? "; etcd has auth enabled: set the etcd username and password"
                                         : "; the token is renewed on the next try";
      else if (e->message.find("authentication failed") != std::string::npos)
        hint = "; check the etcd username and password";
      else if (code == CODE_PERMISSION_DENIED)
        hint = "; grant user '" + settings.username + "' a role with readwrite on " + key_prefix + " (etcdctl role grant-permission --prefix)";
      return Status::error(where() + " refused " + what + ": " + e->message + " (code " + std::to_string(code) + ")" +
                           hint);
    }
    if (r->status != 200)
      return Status::error(where() + " answered " + what + " with HTTP " + std::to_string(r->status));
    return std::move(r->body);
  }

  // A keep-alive's answer, counted; nullopt when it ended the session.
  std::optional<etcd::LeaseReply> keepalive_answer(Result<EtcdReply>& r) {
    int64_t code;
    auto body = answer(r, "the lease keep-alive", code);
    if (!body) {
      session_failed(body.message());
      return std::nullopt;
    }
    auto lease = etcd::parse_lease_response(*body);
    if (!lease) {
      session_failed(malformed("lease keep-alive", lease.status()).message());
      return std::nullopt;
    }
    bump([](EtcdStatus& s) { ++s.keepalives; });
    return std::move(lease.value());
  }

  Status malformed(const std::string& what, const Status& s) {
    bump([](EtcdStatus& x) { ++x.malformed; });
    return Status::error(where() + ": " + what + ": " + s.message());
  }

  // ------------------------------------------------------------ sessions

  void begin_session() {
    if (stopping) return;
    ++session;
    established = false;
    lease_ok = false;
    writing = false;
    watch.use_endpoint(unary.endpoint_index());
    bump([&](EtcdStatus& s) { s.endpoint = unary.endpoint().url; });
    if (settings.username.empty()) return lease_step();
    unary.set_token({});
    watch.set_token({});
    call("/v3/auth/authenticate", etcd::auth_request(settings.username, settings.password), MAX_ANSWER_BYTES,
         [this](Result<EtcdReply> r) {
           int64_t code;
           auto body = answer(r, "user '" + settings.username + "'", code);
           if (r) secure_wipe(r->body.data(), r->body.capacity());
           if (!body) return session_failed(body.message());
           auto token = etcd::parse_auth_response(*body);
           secure_wipe(body->data(), body->capacity());
           if (!token) return session_failed(malformed("authenticate", token.status()).message());
           unary.set_token(*token);
           watch.set_token(*token);
           secure_wipe(token->data(), token->capacity());
           lease_step();
         },
         /*wipe=*/true);
  }

  // Keeps the lease this node had if etcd still has it; otherwise a new one.
  void lease_step() {
    if (lease_id == 0) return grant([this] { lease_alive(); });
    call("/v3/lease/keepalive", etcd::lease_id_request(lease_id), MAX_ANSWER_BYTES, [this](Result<EtcdReply> r) {
      auto lease = keepalive_answer(r);
      if (!lease) return;
      lease_header = lease->header;
      next_keepalive = Clock::now() + keepalive_interval();
      if (lease->ttl > 0) return lease_alive();
      grant([this] { lease_alive(); });
    });
  }

  template <typename Then>
  void grant(Then then) {
    call("/v3/lease/grant", etcd::lease_grant_request(settings.lease_ttl_s), MAX_ANSWER_BYTES,
         [this, then = std::move(then)](Result<EtcdReply> r) mutable {
           int64_t code;
           auto body = answer(r, "a lease grant", code);
           if (!body) return session_failed(body.message());
           auto lease = etcd::parse_lease_response(*body);
           if (!lease || lease->ttl <= 0)
             return session_failed(malformed("lease grant", lease ? Status::error("no TTL") : lease.status()).message());
           const bool had = lease_id != 0;
           lease_id = lease->id;
           lease_ttl = lease->ttl;
           lease_header = lease->header;
           next_keepalive = Clock::now() + keepalive_interval();
           {
             std::lock_guard lock(mu);
             ++st.lease_grants;
             for (const auto& [name, value] : published) dirty.insert(name);
           }
           if (had) spdlog::info("etcd directory: lease lost; granted a new one and putting this node's values again");
           then();
         });
  }

  milliseconds keepalive_interval() const {
    return std::max(milliseconds(200), milliseconds(std::max<int64_t>(lease_ttl, 1) * 1000 / 3));
  }

  // The session's lease is alive: the view (watch, or snapshot then watch)
  // is made, and pending writes go at once beside it rather than after it
  // (the watch reports them whenever it starts: it resumes from a revision
  // before them). A failover delays a publish by a connect and a keep-alive.
  void lease_alive() {
    lease_ok = true;
    view_step();
    pump();
  }

  // Resumes the watch from the last revision when etcd still has it.
  void view_step() {
    const bool new_cluster = cluster_id != 0 && lease_header.cluster_id != 0 && lease_header.cluster_id != cluster_id;
    if (new_cluster || lease_header.revision < last_rev) {
      spdlog::warn("etcd directory: {} is {} than the directory this node saw; reading it again", where(),
                   new_cluster ? "another cluster" : "older");
      need_snapshot = true;
    }
    if (lease_header.cluster_id != 0) cluster_id = lease_header.cluster_id;
    if (!need_snapshot) return watch_step(/*resumed=*/true);
    snap.clear();
    snap_rev = 0;
    snap_key = key_prefix;
    snapshot_page();
  }

  void snapshot_page() {
    call("/v3/kv/range", etcd::range_request(snap_key, range_end, snap_rev, page_limit, false), MAX_RANGE_PAGE_BYTES,
         [this](Result<EtcdReply> r) {
           if (!r && r.message().find("answer over") != std::string::npos)
             page_limit = std::max<int64_t>(1, page_limit / 4);  // smaller pages next time
           int64_t code;
           auto body = answer(r, "a read of " + key_prefix, code);
           if (!body) return session_failed(body.message());
           auto page = etcd::parse_range_response(*body, key_prefix);
           if (!page) return session_failed(malformed("range", page.status()).message());
           if (snap_rev == 0) snap_rev = page->header.revision;
           if (page->header.cluster_id != 0) cluster_id = page->header.cluster_id;
           bump([&](EtcdStatus& s) { s.dropped += page->dropped; });
           for (auto& kv : page->kvs) snap.emplace_back(std::move(kv.name), std::move(kv.value));
           if (snap.size() > MAX_SNAPSHOT_KEYS)
             return session_failed(where() + ": more than " + std::to_string(MAX_SNAPSHOT_KEYS) + " keys under " +
                                   key_prefix);
           if (page->more) {
             std::string next = page->last_key + '\0';
             if (next <= snap_key) return session_failed(malformed("range", Status::error("pages do not advance")).message());
             snap_key = std::move(next);
             return snapshot_page();
           }
           last_rev = snap_rev;
           need_snapshot = false;
           bump([&](EtcdStatus& s) {
             ++s.snapshots;
             s.revision = last_rev;
           });
           invoke(cb.snapshot, std::move(snap));
           snap = {};
           watch_step(/*resumed=*/false);
         });
  }

  void watch_step(bool resumed) {
    resuming = resumed;
    watch_stop.clear();
    watch_keep_endpoint = false;
    const uint64_t s = session;
    watch.stream(
        "/v3/watch", etcd::watch_request(key_prefix, range_end, last_rev + 1), MAX_WATCH_LINE_BYTES,
        [this, s](std::string_view line) { return s == session && !stopping && on_watch_line(line); },
        [this, s](Status end) {
          if (s != session || stopping) return;
          if (!watch_stop.empty()) return session_failed(watch_stop, !watch_keep_endpoint);
          session_failed(end ? where() + " ended the watch" : end.message());
        });
  }

  bool on_watch_line(std::string_view line) {
    auto chunk = etcd::parse_watch_chunk(line, key_prefix);
    if (!chunk) {
      watch_stop = malformed("watch", chunk.status()).message();
      return false;
    }
    if (chunk->error) {
      watch_stop = where() + " broke the watch: " + chunk->error->message + " (code " +
                   std::to_string(chunk->error->code) + ")";
      return false;
    }
    if (chunk->canceled) {
      if (chunk->compact_revision > 0) {
        need_snapshot = true;
        watch_keep_endpoint = true;
        watch_stop = where() + ": the watch from revision " + std::to_string(last_rev + 1) +
                     " was compacted (etcd keeps from " + std::to_string(chunk->compact_revision) +
                     "); reading the directory again";
      } else {
        watch_stop = where() + " canceled the watch: " +
                     (chunk->cancel_reason.empty() ? std::string("no reason given") : chunk->cancel_reason);
      }
      return false;
    }
    if (chunk->dropped) bump([&](EtcdStatus& s) { s.dropped += chunk->dropped; });
    if (chunk->created) {
      if (!established) on_established();
      return true;
    }
    if (!established) return true;  // nothing comes before "created"
    for (auto& ev : chunk->events) {
      if (ev.kind == etcd::WatchEvent::Kind::kPut) invoke(cb.put, std::move(ev.name), std::move(ev.value));
      else invoke(cb.deleted, std::move(ev.name));
      if (stopping) return false;
    }
    // Events of one revision may straddle fragments: a fragment vouches
    // only for the revisions before its last.
    int64_t top = chunk->max_revision;
    if (top == 0 && !chunk->fragment) top = chunk->header.revision;  // no events: a progress notice
    else if (chunk->fragment) top -= 1;
    last_rev = std::max(last_rev, top);
    bump([&](EtcdStatus& s) {
      s.watch_events += chunk->events.size();
      s.revision = last_rev;
    });
    return true;
  }

  void on_established() {
    established = true;
    grace_timer.cancel();
    failures_in_round = 0;
    backoff = FIRST_BACKOFF;
    bump([&](EtcdStatus& s) {
      if (ever_established) ++s.reconnects;
      if (resuming) ++s.resyncs;
    });
    ever_established = true;
    if (reported != Reported::kUp) report(true, "connected to " + unary.endpoint().url);
    pump();
  }

  // A session ended: next endpoint (or the same one, after a compaction),
  // after a backoff once every endpoint has failed in turn.
  void session_failed(const std::string& why, bool failover = true) {
    if (stopping) return;
    const bool was = established;
    ++session;
    established = false;
    lease_ok = false;
    writing = false;
    keepalive_timer.cancel();
    watch.close();
    unary.close();
    last_why = why;
    bump([&](EtcdStatus& s) { s.last_error = why; });
    spdlog::debug("etcd directory: session ended: {}", why);
    if (was && reported == Reported::kUp) {
      // Two requests' time: a member that was just killed may have been the
      // leader, and the next one stalls its first request until a new leader
      // is elected; the one after answers.
      grace_timer.expires_after(2 * milliseconds(settings.timeout_ms));
      grace_timer.async_wait([this](boost::system::error_code ec) {
        if (!ec && !established && reported == Reported::kUp) report(false, last_why);
      });
    }
    if (!failover) return asio::post(io, [this] { begin_session(); });
    unary.failover();
    if (++failures_in_round < unary.endpoint_count()) return asio::post(io, [this] { begin_session(); });
    failures_in_round = 0;
    if (reported == Reported::kUnknown) report(false, why);
    retry_timer.expires_after(backoff);
    backoff = std::min(backoff * 2, MAX_BACKOFF);
    retry_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) begin_session();
    });
  }

  // ------------------------------------------------------------ writes

  // One write at a time on the session, once its lease is known alive: the
  // keep-alive when due, then deletes, then puts; otherwise sleeps until the
  // next keep-alive.
  void pump() {
    if (!lease_ok || writing || stopping) return;
    if (Clock::now() >= next_keepalive) return keepalive();
    std::string name;
    std::optional<Bytes> value;
    {
      std::lock_guard lock(mu);
      if (!deletes.empty()) {
        name = *deletes.begin();
        deletes.erase(deletes.begin());
      } else if (!dirty.empty()) {
        name = *dirty.begin();
        dirty.erase(dirty.begin());
        value = published.at(name);
      }
    }
    if (name.empty()) {
      keepalive_timer.expires_at(next_keepalive);
      keepalive_timer.async_wait([this, s = session](boost::system::error_code ec) {
        if (!ec && s == session) pump();
      });
      return;
    }
    writing = true;
    const bool is_put = value.has_value();
    std::string key = key_prefix + name;
    std::string body = is_put ? etcd::put_request(key, *value, lease_id) : etcd::delete_request(key);
    // Restores the name when the write did not happen (whatever the
    // session), unless etcd refused the value itself (over its
    // --max-request-bytes): that one waits for the next publish.
    auto undo = [this, name, is_put](bool refused, const Status& why) {
      std::lock_guard lock(mu);
      ++st.put_errors;
      if (refused) {
        st.last_error = why.message();
        return;
      }
      if (is_put && published.count(name)) dirty.insert(name);
      if (!is_put && !published.count(name)) deletes.insert(name);
    };
    unary.call(is_put ? "/v3/kv/put" : "/v3/kv/deleterange", std::move(body), MAX_ANSWER_BYTES,
               [this, s = session, undo, is_put](Result<EtcdReply> r) {
                 int64_t code = 0;
                 Status ok = Status::ok();
                 if (auto answered = answer(r, is_put ? "a put" : "a delete", code); !answered) {
                   ok = answered.status();
                 } else if (auto h = etcd::parse_header_response(*answered); !h) {
                   ok = malformed(is_put ? "put" : "delete", h.status());
                 }
                 const bool refused =
                     is_put && code == CODE_INVALID_ARGUMENT && ok.message().find("too large") != std::string::npos;
                 if (!ok) undo(refused, ok);
                 if (s != session || stopping) return;
                 writing = false;
                 if (ok) {
                   bump([](EtcdStatus& x) { ++x.puts; });
                   return pump();
                 }
                 if (refused) {
                   spdlog::error("etcd directory: {}; not put again until published again", ok.message());
                   return pump();
                 }
                 if (code == CODE_NOT_FOUND && is_put) return lease_lost();  // "requested lease not found"
                 session_failed(ok.message());
               });
  }

  void keepalive() {
    writing = true;
    call("/v3/lease/keepalive", etcd::lease_id_request(lease_id), MAX_ANSWER_BYTES, [this](Result<EtcdReply> r) {
      writing = false;
      auto lease = keepalive_answer(r);
      if (!lease) return;
      if (lease->ttl <= 0) return lease_lost();
      next_keepalive = Clock::now() + keepalive_interval();
      pump();
    });
  }

  void lease_lost() {
    writing = true;
    grant([this] {
      writing = false;
      pump();
    });
  }

  // ------------------------------------------------------------ stop

  void stop() {
    stopping = true;
    auto revoked = std::make_shared<std::promise<void>>();
    auto done = revoked->get_future();
    asio::post(io, [this, revoked] {
      ++session;
      retry_timer.cancel();
      keepalive_timer.cancel();
      grace_timer.cancel();
      watch.close();
      unary.close();
      if (lease_id == 0 || reported != Reported::kUp) return revoked->set_value();
      unary.set_timeout(REVOKE_TIMEOUT);
      unary.call("/v3/lease/revoke", etcd::lease_id_request(lease_id), MAX_ANSWER_BYTES,
                 [revoked](Result<EtcdReply>) { revoked->set_value(); });
    });
    done.wait_for(STOP_WAIT);
    io.stop();
    if (thread.joinable()) thread.join();
  }
};

// ---------------------------------------------------------------- facade

Result<std::unique_ptr<EtcdDirectory>> EtcdDirectory::start(EtcdSettings settings, Callbacks callbacks) {
  if (settings.endpoints.empty())
    return Status::error("etcd has no endpoints; list at least one, e.g. endpoints: [\"https://10.0.0.1:2379\"]");
  std::vector<EtcdEndpoint> endpoints;
  bool any_tls = false;
  for (const auto& url : settings.endpoints) {
    auto ep = parse_etcd_endpoint(url);
    if (!ep) return ep.status();
    any_tls = any_tls || ep->tls;
    endpoints.push_back(std::move(*ep));
  }
  if (settings.prefix.empty())
    return Status::error("etcd prefix is empty; set one such as /zeqvpn/MESH (keys are prefix + \"/\" + name)");
  if (settings.prefix.back() == '/')
    return Status::error("etcd prefix '" + settings.prefix + "' ends with '/'; write it without (keys are prefix + \"/\" + name)");
  if (settings.lease_ttl_s < 2 || settings.lease_ttl_s > 3600)
    return Status::error("etcd lease TTL " + std::to_string(settings.lease_ttl_s) +
                         " s is out of range; use 2 to 3600 seconds (10 is a good default)");
  if (settings.timeout_ms < 100 || settings.timeout_ms > 60000)
    return Status::error("etcd timeout " + std::to_string(settings.timeout_ms) +
                         " ms is out of range; use 100 to 60000 ms (3000 is a good default)");
  if (settings.username.empty() && !settings.password.empty())
    return Status::error("etcd password is set without a username; set the etcd username too, or drop the password");
  std::shared_ptr<EtcdTlsContext> tls;
  if (any_tls || !settings.ca_file.empty() || !settings.cert_file.empty() || !settings.key_file.empty()) {
    auto ctx = make_etcd_tls_context(settings.ca_file, settings.cert_file, settings.key_file);
    if (!ctx) return ctx.status();
    tls = std::move(*ctx);
  }
  auto impl = std::make_unique<Impl>(std::move(settings), std::move(callbacks), std::move(endpoints), std::move(tls));
  Impl* p = impl.get();
  asio::post(p->io, [p] { p->begin_session(); });
  p->thread = std::thread([p] {
    for (;;) {
      try {
        p->io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("etcd directory: {}", e.what());
      }
    }
  });
  return std::unique_ptr<EtcdDirectory>(new EtcdDirectory(std::move(impl)));
}

EtcdDirectory::EtcdDirectory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EtcdDirectory::~EtcdDirectory() { impl_->stop(); }

void EtcdDirectory::publish(std::string name, Bytes value) {
  {
    std::lock_guard lock(impl_->mu);
    if (name.empty() || value.size() > etcd::MAX_VALUE_BYTES) {
      ++impl_->st.put_errors;
      impl_->st.last_error = name.empty() ? "etcd directory: publish with an empty name (a programming error)"
                                          : "etcd directory: value for '" + name + "' is " +
                                                std::to_string(value.size()) + " bytes, over the 1 MiB bound; not put";
      return;
    }
    impl_->deletes.erase(name);
    impl_->dirty.insert(name);
    impl_->published[std::move(name)] = std::move(value);
  }
  asio::post(impl_->io, [p = impl_.get()] { p->pump(); });
}

void EtcdDirectory::withdraw(std::string name) {
  {
    std::lock_guard lock(impl_->mu);
    if (name.empty()) return;
    impl_->dirty.erase(name);
    impl_->published.erase(name);
    impl_->deletes.insert(std::move(name));
  }
  asio::post(impl_->io, [p = impl_.get()] { p->pump(); });
}

EtcdStatus EtcdDirectory::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->st;
}

}  // namespace zeq
