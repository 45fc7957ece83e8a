// Fuzz target: what etcd's v3 JSON gateway (or anything answering in its
// place) sends the etcd directory backend, through every parser of
// directory/etcd_json.hpp: a watch stream line, a range page, a lease, auth
// and plain answer, an error body, and base64. Properties, trapped when
// broken:
//  - nothing throws (a throw ends the process) and every refusal says why;
//  - what a parser keeps is bounded: names are never empty, values never
//    over the bound it was given, and max_revision covers every event;
//  - a range page that parses encodes back (as etcd would send it) to the
//    same keys and values;
//  - base64 that decodes encodes back to the same text (strict decoding).
// Seeds (corpus/etcd_json/) are answers captured from etcd 3.4.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "crypto/encoding.hpp"
#include "directory/etcd_json.hpp"

namespace {

constexpr std::string_view kPrefix = "/z/";

void check_watch(std::string_view text, size_t max_value) {
  auto chunk = zeq::etcd::parse_watch_chunk(text, kPrefix, max_value);
  if (!chunk) {
    if (chunk.message().empty()) __builtin_trap();
    return;
  }
  for (const auto& ev : chunk->events) {
    if (ev.name.empty() || ev.value.size() > max_value || ev.mod_revision > chunk->max_revision) __builtin_trap();
    if (ev.kind == zeq::etcd::WatchEvent::Kind::kDelete && !ev.value.empty()) __builtin_trap();
  }
  if (chunk->cancel_reason.size() > 512 || chunk->compact_revision < 0) __builtin_trap();
}

void check_range(std::string_view text, size_t max_value) {
  auto page = zeq::etcd::parse_range_response(text, kPrefix, max_value);
  if (!page) {
    if (page.message().empty()) __builtin_trap();
    return;
  }
  nlohmann::json kvs = nlohmann::json::array();
  for (const auto& kv : page->kvs) {
    if (kv.name.empty() || kv.value.size() > max_value) __builtin_trap();
    const std::string key = std::string(kPrefix) + kv.name;
    kvs.push_back({{"key", zeq::base64_encode(zeq::as_bytes(key))},
                   {"value", zeq::base64_encode(kv.value)},
                   {"mod_revision", std::to_string(kv.mod_revision)}});
  }
  nlohmann::json again = {{"header", {{"revision", std::to_string(page->header.revision)}}}, {"kvs", kvs}};
  auto back = zeq::etcd::parse_range_response(again.dump(), kPrefix, max_value);
  if (!back || back->kvs.size() != page->kvs.size() || back->dropped != 0) __builtin_trap();
  for (size_t i = 0; i < back->kvs.size(); ++i)
    if (back->kvs[i].name != page->kvs[i].name || back->kvs[i].value != page->kvs[i].value) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_watch(text, zeq::etcd::MAX_VALUE_BYTES);
  check_watch(text, 4);  // small bound: the drop paths
  check_range(text, zeq::etcd::MAX_VALUE_BYTES);
  check_range(text, 4);
  if (auto lease = zeq::etcd::parse_lease_response(text); lease && lease->id == 0) __builtin_trap();
  if (auto token = zeq::etcd::parse_auth_response(text)) {
    if (token->empty() || token->size() > 4096) __builtin_trap();
    for (char c : *token)
      if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) __builtin_trap();
  }
  (void)zeq::etcd::parse_header_response(text);
  if (auto e = zeq::etcd::parse_error(text); e && e->message.size() > 512) __builtin_trap();
  if (auto decoded = zeq::etcd::base64_decode(text)) {
    if (zeq::base64_encode(*decoded) != text) __builtin_trap();
  }
  return 0;
}
