#include "protocol/enrollment_token.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "crypto/encoding.hpp"

namespace zeq::enroll {

namespace {

constexpr uint8_t MAGIC[3] = {'Z', 'Q', 'I'};
constexpr uint8_t VERSION = 1;

bool good_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

// base64url without padding <-> the standard alphabet crypto/ decodes.
std::string to_url(std::string b64) {
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

constexpr const char* FIX = "; copy the whole line `zeqvpnctl mesh invite` printed, or ask for a new invite";

}  // namespace

void append_endpoint(Bytes& out, const UdpEndpoint& e) {
  const in6_addr& a = e.sa.sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    out.push_back(4);
    out.insert(out.end(), a.s6_addr + 12, a.s6_addr + 16);
  } else {
    out.push_back(6);
    out.insert(out.end(), a.s6_addr, a.s6_addr + 16);
  }
  append_be16(out, ntohs(e.sa.sin6_port));
}

bool read_endpoint(const uint8_t*& p, const uint8_t* end, UdpEndpoint& out) {
  if (end - p < 1) return false;
  const uint8_t family = *p++;
  const size_t n = family == 4 ? 4 : family == 6 ? 16 : 0;
  if (n == 0 || size_t(end - p) < n + 2) return false;
  out = UdpEndpoint{};
  out.sa.sin6_family = AF_INET6;
  if (family == 4) {
    out.sa.sin6_addr.s6_addr[10] = 0xff;
    out.sa.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(out.sa.sin6_addr.s6_addr + 12, p, 4);
  } else {
    std::memcpy(out.sa.sin6_addr.s6_addr, p, 16);
    // A v4-mapped address has one encoding only: family 4.
    if (IN6_IS_ADDR_V4MAPPED(&out.sa.sin6_addr)) return false;
  }
  p += n;
  const uint16_t port = load_be16(p);
  p += 2;
  if (port == 0) return false;
  out.sa.sin6_port = htons(port);
  return true;
}

std::string encode_token(const InviteToken& t) {
  Bytes b(MAGIC, MAGIC + 3);
  b.push_back(VERSION);
  b.insert(b.end(), t.mesh_id.begin(), t.mesh_id.end());
  b.push_back(uint8_t(t.mesh_name.size()));
  b.insert(b.end(), t.mesh_name.begin(), t.mesh_name.end());
  b.insert(b.end(), t.invite_id.begin(), t.invite_id.end());
  b.insert(b.end(), t.secret.data(), t.secret.data() + 32);
  b.insert(b.end(), t.bootstrap_key.begin(), t.bootstrap_key.end());
  append_be64(b, t.expires_z);
  b.push_back(uint8_t(t.endpoints.size()));
  for (const auto& e : t.endpoints) append_endpoint(b, e);
  std::string text = std::string(TOKEN_PREFIX) + to_url(base64_encode(b));
  secure_wipe(b.data(), b.size());
  return text;
}

Result<InviteToken> decode_token(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (text.size() > MAX_TOKEN_TEXT)
    return Status::error("invite token: " + std::to_string(text.size()) + " characters, more than a token has" + FIX);
  if (text.substr(0, TOKEN_PREFIX.size()) != TOKEN_PREFIX)
    return Status::error("invite token: does not start with \"zqi1.\"; it is not a zeqvpn invite token" + std::string(FIX));
  std::string b64(text.substr(TOKEN_PREFIX.size()));
  // Only the url alphabet, unpadded: checked here, not left to the decoder
  // (which reads some bytes outside the alphabet as one of its letters).
  for (char& c : b64) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (!alnum) return Status::error("invite token: damaged (not base64url)" + std::string(FIX));
  }
  if (b64.size() % 4 == 1) return Status::error("invite token: truncated or damaged" + std::string(FIX));
  while (b64.size() % 4) b64.push_back('=');
  // The encoded length fixes the decoded length; decode exactly that many.
  size_t pad = std::count(b64.end() - std::min<size_t>(2, b64.size()), b64.end(), '=');
  size_t n = b64.size() / 4 * 3 - pad;
  Bytes b(n);
  struct Wipe {
    Bytes& b;
    ~Wipe() { secure_wipe(b.data(), b.size()); }
  } wipe{b};
  if (n == 0 || !base64_decode_exact(b64, b)) return Status::error("invite token: damaged (not base64url)" + std::string(FIX));
  secure_wipe(b64.data(), b64.size());
  const uint8_t* p = b.data();
  const uint8_t* end = p + b.size();
  auto bad = [](const std::string& what) { return Status::error("invite token: " + what + FIX); };
  if (end - p < 4 || std::memcmp(p, MAGIC, 3) != 0) return bad("damaged (no ZQI header)");
  if (p[3] != VERSION)
    return Status::error("invite token: version " + std::to_string(p[3]) +
                         ", this zeqvpnctl reads version 1; use the zeqvpnctl version of the node that made it");
  p += 4;
  InviteToken t;
  if (end - p < 33) return bad("truncated");
  std::memcpy(t.mesh_id.data(), p, 32);
  p += 32;
  const size_t name_len = *p++;
  if (size_t(end - p) < name_len) return bad("truncated");
  t.mesh_name.assign(reinterpret_cast<const char*>(p), name_len);
  p += name_len;
  if (!good_name(t.mesh_name)) return bad("damaged (mesh name)");
  if (end - p < 16 + 32 + 32 + 8 + 1) return bad("truncated");
  std::memcpy(t.invite_id.data(), p, 16);
  p += 16;
  t.secret.assign(std::span<const uint8_t>(p, 32));
  p += 32;
  std::memcpy(t.bootstrap_key.data(), p, 32);
  p += 32;
  t.expires_z = load_be64(p);
  p += 8;
  const size_t count = *p++;
  if (count == 0 || count > MAX_TOKEN_ENDPOINTS) return bad("damaged (" + std::to_string(count) + " bootstrap endpoints)");
  for (size_t i = 0; i < count; ++i) {
    UdpEndpoint e;
    if (!read_endpoint(p, end, e)) return bad("damaged (bootstrap endpoint " + std::to_string(i + 1) + ")");
    t.endpoints.push_back(e);
  }
  if (p != end) return bad("damaged (" + std::to_string(end - p) + " bytes after the end)");
  return t;
}

}  // namespace zeq::enroll
