#include "config/secrets.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace zeq {

Result<SecretBuffer> decode_mesh_secret(const char* hex_text, const char* where) {
  size_t len = std::strlen(hex_text);
  while (len > 0 && (hex_text[len - 1] == '\n' || hex_text[len - 1] == '\r' || hex_text[len - 1] == ' ')) --len;
  const std::string fix = "; generate one with `openssl rand -hex 32` and give the same value to every node of the mesh";
  if (len < 64 || len % 2 != 0) {
    return Status::error(std::string(where) + " must be at least 64 hex digits (32 bytes), got " + std::to_string(len) +
                         " characters" + fix);
  }
  SecretBytes<1024> raw;
  size_t bin_len = 0;
  if (len / 2 > raw.size() ||
      sodium_hex2bin(raw.data(), raw.size(), hex_text, len, nullptr, &bin_len, nullptr) != 0 || bin_len != len / 2) {
    return Status::error(std::string(where) + " must contain only hex digits 0-9 and a-f" + fix);
  }
  return SecretBuffer(std::span<const uint8_t>(raw.data(), bin_len));
}

Result<SecretBuffer> load_mesh_secret() {
  if (const char* env = std::getenv(MESH_SECRET_ENV); env && *env) {
    return decode_mesh_secret(env, "ZEQ_MESH_SECRET (environment)");
  }
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir && *dir) {
    std::string path = std::string(dir) + "/" + MESH_SECRET_ENV;
    if (FILE* f = fopen(path.c_str(), "re")) {
      char buf[2100];
      size_t n = fread(buf, 1, sizeof buf - 1, f);
      fclose(f);
      buf[n] = 0;
      auto r = decode_mesh_secret(buf, ("credential " + path).c_str());
      sodium_memzero(buf, sizeof buf);
      return r;
    }
  }
  return Status::error(
      "ZEQ_MESH_SECRET is not set: export it (64+ hex digits, the same on every node; `openssl rand -hex 32` makes one), "
      "or pass it as a systemd credential with LoadCredential=ZEQ_MESH_SECRET:/path");
}

}  // namespace zeq
