#include "config/secrets.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace zeq {

namespace {

// Hex of min_digits..max_digits (even), decoded into locked memory.
Result<SecretBuffer> decode_hex_secret(const char* hex_text, const char* where, size_t min_digits, size_t max_digits,
                                       const std::string& fix) {
  size_t len = std::strlen(hex_text);
  while (len > 0 && (hex_text[len - 1] == '\n' || hex_text[len - 1] == '\r' || hex_text[len - 1] == ' ')) --len;
  if (len < min_digits || len > max_digits || len % 2 != 0) {
    std::string want = min_digits == max_digits ? "exactly " + std::to_string(min_digits)
                                                : "at least " + std::to_string(min_digits);
    return Status::error(std::string(where) + " must be " + want + " hex digits (" + std::to_string(min_digits / 2) +
                         " bytes), got " + std::to_string(len) + " characters" + fix);
  }
  SecretBytes<1024> raw;
  size_t bin_len = 0;
  if (len / 2 > raw.size() ||
      sodium_hex2bin(raw.data(), raw.size(), hex_text, len, nullptr, &bin_len, nullptr) != 0 || bin_len != len / 2) {
    return Status::error(std::string(where) + " must contain only hex digits 0-9 and a-f" + fix);
  }
  return SecretBuffer(std::span<const uint8_t>(raw.data(), bin_len));
}

using Decoder = Result<SecretBuffer> (*)(const char*, const char*);

Result<SecretBuffer> load_secret(const char* name, Decoder decode, const std::string& missing) {
  if (const char* env = std::getenv(name); env && *env) {
    return decode(env, (std::string(name) + " (environment)").c_str());
  }
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir && *dir) {
    std::string path = std::string(dir) + "/" + name;
    if (FILE* f = fopen(path.c_str(), "re")) {
      char buf[2100];
      size_t n = fread(buf, 1, sizeof buf - 1, f);
      fclose(f);
      buf[n] = 0;
      // `zeqvpnctl gen-secrets --only mesh -o FILE` writes NAME=value lines;
      // such a file serves as the credential as it is.
      const char* value = buf;
      size_t prefix = std::strlen(name);
      if (std::strncmp(buf, name, prefix) == 0 && buf[prefix] == '=') value = buf + prefix + 1;
      auto r = decode(value, ("credential " + path).c_str());
      sodium_memzero(buf, sizeof buf);
      return r;
    }
  }
  return Status::error(missing);
}

}  // namespace

Result<SecretBuffer> decode_mesh_secret(const char* hex_text, const char* where) {
  return decode_hex_secret(hex_text, where, 64, 2048,
                           "; generate one with `zeqvpnctl gen-secrets` or `openssl rand -hex 32` and give the same "
                           "value to every node of the mesh");
}

Result<SecretBuffer> decode_field_key(const char* hex_text, const char* where) {
  return decode_hex_secret(hex_text, where, 64, 64,
                           "; generate one with `zeqvpnctl gen-secrets` (a new key cannot open a vault sealed under "
                           "the old one)");
}

Result<SecretBuffer> load_mesh_secret() {
  return load_secret(
      MESH_SECRET_ENV, decode_mesh_secret,
      "ZEQ_MESH_SECRET is not set: export it (64+ hex digits, the same on every node; `zeqvpnctl gen-secrets` makes "
      "one), or pass it as a systemd credential with LoadCredential=ZEQ_MESH_SECRET:/path");
}

Result<SecretBuffer> load_field_key() {
  return load_secret(
      FIELD_KEY_ENV, decode_field_key,
      "ZEQ_FIELD_KEY is not set: it seals the state database's vault; export it (64 hex digits, this node's own; "
      "`zeqvpnctl gen-secrets` makes one), or pass it as a systemd credential with LoadCredential=ZEQ_FIELD_KEY:/path");
}

}  // namespace zeq
