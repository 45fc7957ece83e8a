#include "loader/loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "config/secrets.hpp"
#include "loader/regular_file.hpp"

namespace zeq {

namespace {

using Decoder = Result<SecretBuffer> (*)(const char*, const char*);

// Large enough for the longest mesh secret (2048 hex digits) as NAME=value.
constexpr size_t CREDENTIAL_MAX = 2100;

Result<SecretBuffer> load_secret(const char* name, Decoder decode, const std::string& missing) {
  if (const char* env = std::getenv(name); env && *env) {
    return decode(env, (std::string(name) + " (environment)").c_str());
  }
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir && *dir) {
    std::string path = std::string(dir) + "/" + name;
    char buf[CREDENTIAL_MAX];
    // Wiped on every way out: a read that failed half-way (EIO) may have
    // left part of the secret in it.
    struct Wipe {
      char* p;
      size_t n;
      ~Wipe() { secure_wipe(p, n); }
    } wipe{buf, sizeof buf};
    auto read = read_regular_file(path, std::span<char>(buf, sizeof buf - 1));
    switch (read.problem) {
      case RegularFileRead::kNone: break;
      case RegularFileRead::kCannotOpen:
        // No such file: the credential is simply not given this way.
        if (read.error == ENOENT) return Status::error(missing);
        return Status::error("credential " + path + " cannot be read (" + read.detail +
                             "); it must be a file the user running zeqvpnd can read (owned by it, mode 0600, as "
                             "LoadCredential= makes it), on a readable file system");
      case RegularFileRead::kNotRegular:
      case RegularFileRead::kTooLarge: {
        std::string what = read.problem == RegularFileRead::kNotRegular
                               ? "is " + read.detail + ", not a regular file"
                               : "holds more than " + std::to_string(sizeof buf - 1) + " bytes";
        return Status::error("credential " + path + " " + what +
                             "; it must hold the value alone or NAME=value (`zeqvpnctl gen-secrets --only` writes one)");
      }
    }
    size_t n = read.size;
    buf[n] = 0;
    // `zeqvpnctl gen-secrets --only mesh -o FILE` writes NAME=value lines;
    // such a file serves as the credential as it is.
    const char* value = buf;
    size_t prefix = std::strlen(name);
    if (std::strncmp(buf, name, prefix) == 0 && buf[prefix] == '=') value = buf + prefix + 1;
    return decode(value, ("credential " + path).c_str());
  }
  return Status::error(missing);
}

}  // namespace

Result<Config> load_config_file(const std::string& path) {
  std::string text;
  auto read = read_regular_file(path, text, MAX_CONFIG_BYTES);
  switch (read.problem) {
    case RegularFileRead::kNone: break;
    case RegularFileRead::kCannotOpen:
      return Status::error(path + ": cannot read the config file (" + read.detail +
                           "); check the path given to --config and its permissions");
    case RegularFileRead::kNotRegular:
      return Status::error(path + ": the config file is " + read.detail +
                           ", not a regular file; give the path of the YAML file to --config");
    case RegularFileRead::kTooLarge:
      return Status::error(path + ": the config file holds more than " + std::to_string(MAX_CONFIG_BYTES) +
                           " bytes (1 MiB), far more than any configuration; check that --config names the YAML "
                           "file");
  }
  return parse_config(text, path);
}

Result<LocalIdentity> load_identity_key_file(const std::string& path) {
  // A fixed buffer we wipe ourselves: no stream or string copies of the key.
  // A key is 44 characters (64 in hex) and a newline; anything much longer
  // is not a key file.
  char text[256];
  auto read = read_regular_file(path, std::span<char>(text, sizeof text));
  if (!read) {
    secure_wipe(text, sizeof text);
    std::string what = read.problem == RegularFileRead::kCannotOpen
                           ? read.detail
                           : read.problem == RegularFileRead::kNotRegular
                                 ? "is " + read.detail + ", not a regular file"
                                 : "holds more than " + std::to_string(sizeof text) + " bytes, more than one key";
    return Status::error("identity key file " + path + ": " + what + "; create one with `zeqvpnctl genkey > " +
                         path + "` (umask 077)");
  }
  if (open_to_others(read.mode)) {
    secure_wipe(text, sizeof text);
    return Status::error("identity key file " + path + " is readable by group or others (mode " +
                         octal_mode(read.mode) + "); run `chmod 600 " + path + "`");
  }
  auto id = identity_from_private_key_text(std::string_view(text, read.size));
  secure_wipe(text, sizeof text);
  if (!id) return Status::error("identity key file " + path + ": " + id.message());
  return id;
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

namespace {

// Whether the secret is given at all: the variable, or the credential file.
bool secret_given(const char* name) {
  if (const char* env = std::getenv(name); env && *env) return true;
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (!dir || !*dir) return false;
  struct stat st {};
  return ::stat((std::string(dir) + "/" + name).c_str(), &st) == 0;
}

}  // namespace

Result<std::optional<SyncCredentials>> load_sync_credentials() {
  const bool secret = secret_given(SYNC_SECRET_ENV), uid = secret_given(SYNC_UID_ENV);
  if (!secret && !uid) return std::optional<SyncCredentials>();
  if (!secret)
    return Status::error("ZEQ_SYNC_UID is set but ZEQ_SYNC_SECRET is not: set both (the same on every node of the "
                         "sync group) or neither");
  if (!uid)
    return Status::error("ZEQ_SYNC_SECRET is set but ZEQ_SYNC_UID is not: set ZEQ_SYNC_UID to the sync group's name "
                         "(1 to 64 characters, the same on every node)");
  auto s = load_secret(SYNC_SECRET_ENV, decode_sync_secret, "ZEQ_SYNC_SECRET is not set");
  if (!s) return s.status();
  auto u = load_secret(SYNC_UID_ENV, decode_sync_uid, "ZEQ_SYNC_UID is not set");
  if (!u) return u.status();
  return std::optional<SyncCredentials>(SyncCredentials{std::move(s.value()), std::move(u.value())});
}

Result<std::optional<SecretBuffer>> load_etcd_password() {
  if (!secret_given(ETCD_PASSWORD_ENV)) return std::optional<SecretBuffer>();
  auto p = load_secret(ETCD_PASSWORD_ENV, decode_text_secret, "ZEQ_ETCD_PASSWORD is not set");
  if (!p) return p.status();
  return std::optional<SecretBuffer>(std::move(p.value()));
}

}  // namespace zeq
