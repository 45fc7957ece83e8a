#include "loader/loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/secrets.hpp"

namespace zeq {

namespace {

std::string octal_mode(mode_t m) {
  char buf[8];
  snprintf(buf, sizeof buf, "%04o", unsigned(m & 07777));
  return buf;
}

// Reads at most cap bytes of path into buf with read(2): no stdio buffer
// keeps a copy of a secret behind the caller's back. 0 or an errno.
int read_secret_file(const std::string& path, char* buf, size_t cap, size_t& n) {
  n = 0;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  while (n < cap) {
    ssize_t got = ::read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    n += size_t(got);
  }
  ::close(fd);
  return 0;
}

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
    size_t n = 0;
    if (read_secret_file(path, buf, sizeof buf - 1, n) == 0) {
      buf[n] = 0;
      // `zeqvpnctl gen-secrets --only mesh -o FILE` writes NAME=value lines;
      // such a file serves as the credential as it is.
      const char* value = buf;
      size_t prefix = std::strlen(name);
      if (std::strncmp(buf, name, prefix) == 0 && buf[prefix] == '=') value = buf + prefix + 1;
      auto r = decode(value, ("credential " + path).c_str());
      secure_wipe(buf, sizeof buf);
      return r;
    }
  }
  return Status::error(missing);
}

}  // namespace

Result<Config> load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::error(path + ": cannot read the config file; check the path given to --config and its permissions");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_config(buf.str(), path);
}

Result<LocalIdentity> load_identity_key_file(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) {
    return Status::error("identity key file " + path + ": " + std::strerror(errno) +
                         "; create one with `zeqvpnctl genkey > " + path + "` (umask 077)");
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return Status::error("identity key file " + path + " is readable by group or others (mode " +
                         octal_mode(st.st_mode) + "); run `chmod 600 " + path + "`");
  }
  // A fixed buffer we wipe ourselves: no stream or string copies of the key.
  char text[256];
  size_t n = 0;
  if (int err = read_secret_file(path, text, sizeof text, n); err != 0)
    return Status::error("identity key file " + path + ": " + std::strerror(err));
  auto id = identity_from_private_key_text(std::string_view(text, n));
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

}  // namespace zeq
