#include "directory/etcd_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include <nlohmann/json.hpp>

#include "crypto/encoding.hpp"

namespace zeq::etcd {

using json = nlohmann::json;

namespace {

// Parses without exceptions: a discarded value on any syntax error (and on
// a number no double holds, which nlohmann reports as out_of_range), and on
// a NUL anywhere.
json parse_json(std::string_view text) {
  // nlohmann stops at a NUL as at the end: what follows one would be ignored.
  if (text.find('\0') != std::string_view::npos) return json(json::value_t::discarded);
  try {
    return json::parse(text.begin(), text.end(), nullptr, false);
  } catch (const json::exception&) {
    return json(json::value_t::discarded);
  }
}

const json* member(const json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

// protobuf JSON: int64/uint64 are strings of digits, though a number is
// accepted too. Absent is 0; anything else is an error.
template <typename Int>
bool read_int(const json& obj, const char* name, Int& out) {
  out = 0;
  const json* v = member(obj, name);
  if (!v || v->is_null()) return true;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<Int>::max())) return false;
    out = Int(u);
    return true;
  }
  if (v->is_number_integer()) {
    int64_t i = v->get<int64_t>();
    if (i < 0 && std::numeric_limits<Int>::is_signed == false) return false;
    out = Int(i);
    return true;
  }
  if (!v->is_string()) return false;
  const std::string& s = v->get_ref<const std::string&>();
  if (s.empty() || s.size() > 20) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool read_bool(const json& obj, const char* name, bool& out) {
  out = false;
  const json* v = member(obj, name);
  if (!v || v->is_null()) return true;
  if (!v->is_boolean()) return false;
  out = v->get<bool>();
  return true;
}

bool read_string(const json& obj, const char* name, std::string& out) {
  out.clear();
  const json* v = member(obj, name);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return false;
  out = v->get_ref<const std::string&>();
  return true;
}

bool read_header(const json& obj, Header& h) {
  h = Header{};
  const json* v = member(obj, "header");
  if (!v || v->is_null()) return true;
  if (!v->is_object()) return false;
  return read_int(*v, "cluster_id", h.cluster_id) && read_int(*v, "revision", h.revision) && h.revision >= 0;
}

// A base64 field decoded; absent is empty (protobuf JSON omits empty bytes).
bool read_bytes(const json& obj, const char* name, Bytes& out) {
  out.clear();
  const json* v = member(obj, name);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return false;
  auto decoded = base64_decode(v->get_ref<const std::string&>());
  if (!decoded) return false;
  out = std::move(*decoded);
  return true;
}

Status malformed(const char* what) { return Status::error(std::string("malformed etcd response: ") + what); }

// An error body of either shape, or nullopt.
std::optional<Error> error_of(const json& j) {
  const json* e = member(j, "error");
  if (!e) return std::nullopt;
  Error err;
  if (e->is_string()) {
    err.message = e->get_ref<const std::string&>();
    if (!read_int(j, "code", err.code)) err.code = 0;
    if (err.message.empty() && err.code == 0) return std::nullopt;  // LeaseGrantResponse's empty "error"
  } else if (e->is_object()) {
    if (!read_int(*e, "grpc_code", err.code) || err.code == 0) (void)read_int(*e, "code", err.code);
    if (!read_string(*e, "message", err.message)) err.message = "(unreadable message)";
  } else {
    return std::nullopt;
  }
  if (err.message.size() > 512) err.message.resize(512);
  return err;
}

Status error_status(const Error& e) {
  return Status::error("etcd: " + (e.message.empty() ? std::string("error") : e.message) + " (code " +
                       std::to_string(e.code) + ")");
}

// key → name when the key lies under the prefix and names something.
bool name_of(const Bytes& key, std::string_view key_prefix, std::string& name) {
  if (key.size() <= key_prefix.size()) return false;
  if (std::string_view(reinterpret_cast<const char*>(key.data()), key_prefix.size()) != key_prefix) return false;
  name.assign(reinterpret_cast<const char*>(key.data()) + key_prefix.size(), key.size() - key_prefix.size());
  return true;
}

// JSON string text for arbitrary bytes, appended to out without temporaries
// (so that the password leaves no copy in freed memory: out is reserved by
// the caller). Bytes that are not UTF-8 are the caller's problem: names and
// passwords are text.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string b64(std::string_view s) { return base64_encode(as_bytes(s)); }

}  // namespace

std::optional<Bytes> base64_decode(std::string_view text) {
  static constexpr auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = int8_t(i);
    return t;
  }();
  if (text.size() % 4 != 0) return std::nullopt;
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      auto c = static_cast<unsigned char>(text[i + k]);
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // a character after '='
      v[k] = table[c];
      if (v[k] < 0) return std::nullopt;
    }
    const uint32_t n = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    // Canonical only: the bits padding leaves unused are zero.
    if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) return std::nullopt;
    out.push_back(uint8_t(n >> 16));
    if (pad < 2) out.push_back(uint8_t(n >> 8));
    if (pad < 1) out.push_back(uint8_t(n));
  }
  return out;
}

std::optional<Error> parse_error(std::string_view body) {
  json j = parse_json(body);
  if (j.is_discarded()) return std::nullopt;
  return error_of(j);
}

Result<RangePage> parse_range_response(std::string_view body, std::string_view key_prefix, size_t max_value) {
  json j = parse_json(body);
  if (!j.is_object()) return malformed("range answer is not a JSON object");
  if (auto e = error_of(j)) return error_status(*e);
  RangePage page;
  if (!read_header(j, page.header)) return malformed("range answer has a bad header");
  if (!read_bool(j, "more", page.more)) return malformed("range answer has a bad \"more\"");
  const json* kvs = member(j, "kvs");
  if (kvs && !kvs->is_null()) {
    if (!kvs->is_array()) return malformed("range answer's \"kvs\" is not an array");
    page.kvs.reserve(kvs->size());
    for (const json& kv : *kvs) {
      if (!kv.is_object()) return malformed("range answer has a key/value that is not an object");
      Bytes key;
      KeyValue out;
      if (!read_bytes(kv, "key", key) || key.empty()) return malformed("range answer has a bad key");
      page.last_key.assign(reinterpret_cast<const char*>(key.data()), key.size());
      if (!read_int(kv, "mod_revision", out.mod_revision)) return malformed("range answer has a bad mod_revision");
      const json* value = member(kv, "value");
      if (value && value->is_string() && value->get_ref<const std::string&>().size() / 4 * 3 > max_value + 2) {
        ++page.dropped;  // not even decoded
        continue;
      }
      if (!read_bytes(kv, "value", out.value)) return malformed("range answer has a bad value");
      if (out.value.size() > max_value || !name_of(key, key_prefix, out.name)) {
        ++page.dropped;
        continue;
      }
      page.kvs.push_back(std::move(out));
    }
  }
  if (page.more && page.last_key.empty()) return malformed("range answer says more but holds no key");
  return page;
}

Result<WatchChunk> parse_watch_chunk(std::string_view line, std::string_view key_prefix, size_t max_value) {
  json j = parse_json(line);
  if (!j.is_object()) return malformed("watch line is not a JSON object");
  WatchChunk chunk;
  if (auto e = error_of(j)) {
    chunk.error = std::move(*e);
    return chunk;
  }
  const json* r = member(j, "result");
  if (!r || !r->is_object()) return malformed("watch line has no \"result\" object");
  if (!read_header(*r, chunk.header) || !read_bool(*r, "created", chunk.created) ||
      !read_bool(*r, "canceled", chunk.canceled) || !read_bool(*r, "fragment", chunk.fragment) ||
      !read_int(*r, "compact_revision", chunk.compact_revision) ||
      !read_string(*r, "cancel_reason", chunk.cancel_reason) || chunk.compact_revision < 0)
    return malformed("watch line has a bad field");
  if (chunk.cancel_reason.size() > 512) chunk.cancel_reason.resize(512);
  const json* events = member(*r, "events");
  if (events && !events->is_null()) {
    if (!events->is_array()) return malformed("watch line's \"events\" is not an array");
    chunk.events.reserve(events->size());
    for (const json& ev : *events) {
      const json* kv = member(ev, "kv");
      if (!kv || !kv->is_object()) return malformed("watch event has no \"kv\" object");
      std::string type;
      if (!read_string(ev, "type", type)) return malformed("watch event has a bad type");
      WatchEvent out;
      if (type == "DELETE") out.kind = WatchEvent::Kind::kDelete;
      else if (!type.empty() && type != "PUT") return malformed("watch event has an unknown type");
      Bytes key;
      if (!read_bytes(*kv, "key", key) || key.empty()) return malformed("watch event has a bad key");
      if (!read_int(*kv, "mod_revision", out.mod_revision) || out.mod_revision < 0)
        return malformed("watch event has a bad mod_revision");
      chunk.max_revision = std::max(chunk.max_revision, out.mod_revision);
      const json* value = member(*kv, "value");
      if (value && value->is_string() && value->get_ref<const std::string&>().size() / 4 * 3 > max_value + 2) {
        ++chunk.dropped;
        continue;
      }
      if (!read_bytes(*kv, "value", out.value)) return malformed("watch event has a bad value");
      if (out.kind == WatchEvent::Kind::kDelete) out.value.clear();
      if (out.value.size() > max_value || !name_of(key, key_prefix, out.name)) {
        ++chunk.dropped;
        continue;
      }
      chunk.events.push_back(std::move(out));
    }
  }
  return chunk;
}

Result<LeaseReply> parse_lease_response(std::string_view body) {
  json j = parse_json(body);
  if (!j.is_object()) return malformed("lease answer is not a JSON object");
  if (auto e = error_of(j)) return error_status(*e);
  const json* r = member(j, "result");
  const json& obj = r ? *r : j;
  if (!obj.is_object()) return malformed("lease answer's \"result\" is not an object");
  if (auto e = error_of(obj)) return error_status(*e);
  LeaseReply reply;
  if (!read_header(obj, reply.header) || !read_int(obj, "ID", reply.id) || !read_int(obj, "TTL", reply.ttl))
    return malformed("lease answer has a bad field");
  if (reply.id == 0) return malformed("lease answer has no lease ID");
  return reply;
}

Result<std::string> parse_auth_response(std::string_view body) {
  json j = parse_json(body);
  if (!j.is_object()) return malformed("authenticate answer is not a JSON object");
  if (auto e = error_of(j)) return error_status(*e);
  std::string token;
  if (!read_string(j, "token", token) || token.empty()) return malformed("authenticate answer has no token");
  // It goes into an HTTP header: printable ASCII only, and not huge.
  if (token.size() > 4096) return malformed("authenticate answer's token is too long");
  for (char c : token)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
      return malformed("authenticate answer's token has a character a header cannot carry");
  return token;
}

Result<Header> parse_header_response(std::string_view body) {
  json j = parse_json(body);
  if (!j.is_object()) return malformed("answer is not a JSON object");
  if (auto e = error_of(j)) return error_status(*e);
  Header h;
  if (!read_header(j, h)) return malformed("answer has a bad header");
  return h;
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's "\0" range end)
}

std::string range_request(std::string_view key, std::string_view range_end, int64_t revision, int64_t limit,
                          bool count_only) {
  json j = {{"key", b64(key)}, {"range_end", b64(range_end)}};
  if (revision > 0) j["revision"] = std::to_string(revision);
  if (limit > 0) j["limit"] = std::to_string(limit);
  if (count_only) j["count_only"] = true;
  return j.dump();
}

std::string watch_request(std::string_view key, std::string_view range_end, int64_t start_revision) {
  json create = {{"key", b64(key)}, {"range_end", b64(range_end)}, {"progress_notify", true}, {"fragment", true}};
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  return json{{"create_request", std::move(create)}}.dump();
}

std::string put_request(std::string_view key, ByteSpan value, int64_t lease) {
  json j = {{"key", b64(key)}, {"value", base64_encode(value)}};
  if (lease != 0) j["lease"] = std::to_string(lease);
  return j.dump();
}

std::string delete_request(std::string_view key) { return json{{"key", b64(key)}}.dump(); }

std::string lease_grant_request(int64_t ttl_s) { return json{{"TTL", std::to_string(ttl_s)}}.dump(); }

std::string lease_id_request(int64_t id) { return json{{"ID", std::to_string(id)}}.dump(); }

std::string auth_request(std::string_view name, std::string_view password) {
  std::string out;
  out.reserve(32 + 6 * (name.size() + password.size()));
  out += "{\"name\":";
  append_json_string(out, name);
  out += ",\"password\":";
  append_json_string(out, password);
  out += "}";
  return out;
}

}  // namespace zeq::etcd
