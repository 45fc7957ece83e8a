// etcd's v3 JSON gateway (etcd 3.4: POST /v3/..., protobuf JSON with int64
// as strings and keys/values in base64), as pure functions: the request
// bodies the etcd backend sends, and the parsing of what comes back. Nothing
// the server says is trusted beyond its syntax: every parser returns an
// error (never throws) on anything it does not expect, bounds what it keeps,
// and drops (and counts) what is well formed but not ours (keys outside the
// prefix, values over the size bound). Separate from the transport so that
// they are unit-tested with garbage and fuzzed (tests/fuzz/etcd_json_fuzz.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/result.hpp"

namespace zeq::etcd {

// A value larger than this (decoded) is dropped and counted: etcd's own
// default request limit is 1.5 MiB, and a directory record is a few kB.
inline constexpr size_t MAX_VALUE_BYTES = 1 << 20;

// What the gateway says about the cluster in every response.
struct Header {
  uint64_t cluster_id = 0;
  int64_t revision = 0;  // 0 when absent (a canceled watch omits it)
};

// An error the gateway returned: unary calls answer
// {"error":"…","message":"…","code":N}, streams {"error":{"grpc_code":N,"message":"…"}}.
struct Error {
  int64_t code = 0;  // gRPC status code (5 not found, 11 out of range, 16 unauthenticated)
  std::string message;
};
// The error of a response body, if it is one.
std::optional<Error> parse_error(std::string_view body);

// One key/value under the prefix: name is the key with the prefix taken off.
struct KeyValue {
  std::string name;
  Bytes value;
  int64_t mod_revision = 0;
};

// One page of a range read (POST /v3/kv/range).
struct RangePage {
  Header header;
  std::vector<KeyValue> kvs;
  bool more = false;          // more keys follow: ask again from after last_key
  std::string last_key;       // the last full key of the page (ours or not), for paging
  size_t dropped = 0;         // keys outside the prefix, empty names, values over max_value
};
Result<RangePage> parse_range_response(std::string_view body, std::string_view key_prefix,
                                       size_t max_value = MAX_VALUE_BYTES);

// One event of a watch.
struct WatchEvent {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string name;
  Bytes value;  // empty for a delete
  int64_t mod_revision = 0;
};

// One line of the watch stream (POST /v3/watch answers one JSON object per
// line, {"result":{…}} or {"error":{…}}, for as long as it lasts).
struct WatchChunk {
  Header header;
  bool created = false;
  bool canceled = false;
  bool fragment = false;           // more events of the same response follow
  int64_t compact_revision = 0;    // > 0: the start revision was compacted
  std::string cancel_reason;
  std::vector<WatchEvent> events;
  int64_t max_revision = 0;        // the highest mod_revision of all events, dropped ones too
  size_t dropped = 0;
  std::optional<Error> error;      // the stream's {"error":…}
};
Result<WatchChunk> parse_watch_chunk(std::string_view line, std::string_view key_prefix,
                                     size_t max_value = MAX_VALUE_BYTES);

// A lease grant (POST /v3/lease/grant) or one keep-alive answer (POST
// /v3/lease/keepalive, wrapped in "result"). ttl <= 0: the lease is gone.
struct LeaseReply {
  Header header;
  int64_t id = 0;
  int64_t ttl = 0;
};
Result<LeaseReply> parse_lease_response(std::string_view body);

// POST /v3/auth/authenticate: the token for the Authorization header.
Result<std::string> parse_auth_response(std::string_view body);

// The header of any other successful answer (put, delete, revoke, a
// count-only range); an error when the body is one.
Result<Header> parse_header_response(std::string_view body);

// The end of the range of every key that starts with prefix (etcd's
// range_end: the prefix with its last byte below 0xff incremented).
std::string prefix_range_end(std::string_view prefix);

// Request bodies. Keys are raw bytes; the functions base64 them.
std::string range_request(std::string_view key, std::string_view range_end, int64_t revision, int64_t limit,
                          bool count_only);
std::string watch_request(std::string_view key, std::string_view range_end, int64_t start_revision);
std::string put_request(std::string_view key, ByteSpan value, int64_t lease);
std::string delete_request(std::string_view key);
std::string lease_grant_request(int64_t ttl_s);
std::string lease_id_request(int64_t id);  // keepalive and revoke: {"ID":"…"}
// Holds the password: the caller wipes it after sending.
std::string auth_request(std::string_view name, std::string_view password);

// Strict standard base64 (padding required, unused bits zero), so that a
// decoded value encodes back to the same text.
std::optional<Bytes> base64_decode(std::string_view text);

}  // namespace zeq::etcd
