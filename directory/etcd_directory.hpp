// The etcd backend of the mesh directory: each node puts its record under a
// key prefix with a lease it keeps alive, and watches the prefix, handing
// what it sees to the caller (who verifies every record: nothing from etcd
// is trusted beyond its parsing). On losing etcd it only says so and keeps
// retrying (next endpoint, bounded backoff) while the caller keeps its last
// directory and its tunnels; when etcd is back it resumes the watch from the
// last revision it saw (a fresh snapshot only when that revision is gone:
// compacted, or a new cluster), re-grants its lease if it expired meanwhile
// and puts every published value again. A connection that died without a
// word is not waited on until the request timeout: one from an address this
// host no longer has (it moved) is dropped at once, one whose path went
// within ttl/3 (sent data unacknowledged), so the lease outlives either.
//
// Talks to etcd's v3 JSON gateway (etcd >= 3.4: HTTP/1.1 + JSON) through
// directory/etcd_client.hpp, with TLS and etcd user/password auth. Runs on
// its own thread with its own io_context.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.hpp"
#include "core/result.hpp"

namespace zeq {

struct EtcdSettings {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379", "https://10.0.0.1:2379"; tried in turn
  std::string prefix;                  // "/zeqvpn/MESH" (no trailing "/"); keys are prefix + "/" + name
  std::string username;                // empty: no auth
  std::string password;                // never logged; wiped on destruction
  std::string ca_file, cert_file, key_file;  // TLS (https endpoints); no ca_file: the system's CAs
  int64_t lease_ttl_s = 10;            // 2..3600; kept alive every ttl/3
  int64_t timeout_ms = 3000;           // per request (connect, TLS, send, answer)

  EtcdSettings() = default;
  EtcdSettings(const EtcdSettings&) = default;
  EtcdSettings(EtcdSettings&&) = default;
  EtcdSettings& operator=(const EtcdSettings&) = default;
  EtcdSettings& operator=(EtcdSettings&&) = default;
  ~EtcdSettings();  // wipes the password
};

// A snapshot of the backend's state and counters, for status output.
struct EtcdStatus {
  bool connected = false;   // as last reported through Callbacks::connection
  std::string endpoint;     // the endpoint in use (or being tried)
  int64_t revision = 0;     // the last etcd revision seen (snapshot or watch)
  uint64_t puts = 0;        // values written (puts and deletes)
  uint64_t put_errors = 0;  // writes that failed (retried), or refused (over the size bound)
  uint64_t watch_events = 0;
  uint64_t reconnects = 0;  // sessions after the first
  uint64_t resyncs = 0;     // watches resumed from the last revision after a break
  uint64_t snapshots = 0;   // full reads of the prefix
  uint64_t keepalives = 0;
  uint64_t lease_grants = 0;
  uint64_t malformed = 0;   // answers from etcd that did not parse (the connection is retried)
  uint64_t dropped = 0;     // keys outside the prefix, values over 1 MiB
  std::string last_error;   // the last failure, one line naming the endpoint and the fix
};

// Runs on its own thread (its own io_context). Callbacks run on that
// thread, one at a time; the caller posts them where it needs them (a slow
// callback holds up the backend). None runs once the destructor has begun,
// which must not be called from a callback. The watch reports this node's
// own values too.
class EtcdDirectory {
 public:
  struct Callbacks {
    // The full range read at the first connect, and again whenever the
    // watch cannot resume (its revision was compacted, or etcd is a new
    // cluster): every key (the name after prefix + "/") and value. Names not
    // in it are gone.
    std::function<void(std::vector<std::pair<std::string, Bytes>> all)> snapshot;
    std::function<void(std::string name, Bytes value)> put;  // a watch event
    std::function<void(std::string name)> deleted;           // a watch event (lease expired or key deleted)
    // Changes only (the first outcome is always reported). A failover to
    // another endpoint that succeeds within 2 × timeout_ms is not reported
    // as a disconnection (it counts in EtcdStatus::reconnects).
    std::function<void(bool connected, std::string why)> connection;
  };

  // Errors (one line naming the setting, the value and the fix): no or a bad
  // endpoint URL, https without TLS files that load, a client certificate
  // without its key, an empty prefix, a TTL or timeout out of range. Not
  // reaching etcd is not an error here: it keeps retrying (backoff up to
  // 1.5 s) and reports connection(false, why).
  static Result<std::unique_ptr<EtcdDirectory>> start(EtcdSettings settings, Callbacks callbacks);

  // Thread-safe. Puts value under prefix/name attached to this directory's
  // lease (granted on connect, kept alive at ttl/3, re-granted and every
  // published value re-put when lost, e.g. after etcd was down longer than
  // the ttl). Latest value per name wins. A value over 1 MiB is refused
  // here, one etcd refuses as too large (its --max-request-bytes) there:
  // counted in put_errors, named in last_error, not retried.
  void publish(std::string name, Bytes value);
  // Thread-safe. Deletes the key (a clean stop) and forgets the value.
  void withdraw(std::string name);
  EtcdStatus status() const;  // thread-safe snapshot

  // Stops the thread promptly (< 1 s even mid-request), revoking the lease
  // (so this node's keys go at once) best-effort within that time.
  ~EtcdDirectory();
  EtcdDirectory(const EtcdDirectory&) = delete;
  EtcdDirectory& operator=(const EtcdDirectory&) = delete;

 private:
  struct Impl;
  explicit EtcdDirectory(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zeq
