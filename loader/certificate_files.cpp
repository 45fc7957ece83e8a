#include "loader/certificate_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/secret_bytes.hpp"
#include "loader/regular_file.hpp"

namespace zeq {

namespace {

// A kind of file: what errors call it, its armour, its size bound and how
// to get a good one.
struct FileKind {
  const char* name;
  std::string_view armor;
  size_t max_bytes;
  const char* fix;
};

const FileKind CA_PUBLIC_FILE{"CA public key file", ARMOR_CA_PUBLIC_KEY, MAX_CERTIFICATE_FILE_BYTES,
                              "copy ca.pub from the mesh authority (`zeqvpnctl ca init` wrote it)"};
const FileKind CA_PRIVATE_FILE{"CA key file", ARMOR_CA_PRIVATE_KEY, MAX_CERTIFICATE_FILE_BYTES,
                               "give the ca.key that `zeqvpnctl ca init` wrote (or restore it from its backup)"};
const FileKind CERTIFICATE_FILE{"certificate file", ARMOR_CERTIFICATE, MAX_CERTIFICATE_FILE_BYTES,
                                "get it again from the mesh authority (`zeqvpnctl ca sign`)"};
const FileKind LIST_FILE{"revocation list file", ARMOR_REVOCATION_LIST, MAX_REVOCATION_LIST_FILE_BYTES,
                         "get it again from the mesh authority (`zeqvpnctl ca revoke` writes it)"};

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text(int error) { return std::strerror(error); }

// Reads path into text (resized to what was read). secret: a private key
// file, refused when group or others may read it; the caller wipes text.
Status read_text(const std::string& path, const FileKind& kind, std::string& text, bool secret) {
  auto read = read_regular_file(path, text, kind.max_bytes);
  const std::string what = std::string(kind.name) + " " + path;
  switch (read.problem) {
    case RegularFileRead::kNone: break;
    case RegularFileRead::kCannotOpen:
      return Status::error(what + ": cannot read it (" + read.detail + "); check the path, or " + kind.fix);
    case RegularFileRead::kNotRegular:
      return Status::error(what + " is " + read.detail + ", not a regular file; " + kind.fix);
    case RegularFileRead::kTooLarge:
      return Status::error(what + " holds more than " + std::to_string(kind.max_bytes) +
                           " bytes, far more than one ever does; check the path");
  }
  if (secret && open_to_others(read.mode))
    return Status::error(what + " is readable by group or others (mode " + octal_mode(read.mode) + "); run `chmod 600 " +
                         path + "`");
  return Status::ok();
}

// The bytes of the file's armoured block. For a private key everything
// read is wiped before returning; the caller wipes the result.
Result<Bytes> load_block(const std::string& path, const FileKind& kind, bool secret) {
  std::string text;
  struct Wipe {
    std::string& s;
    ~Wipe() { secure_wipe(s.data(), s.size()); }
  } wipe{text};
  if (Status s = read_text(path, kind, text, secret); !s) return s;
  auto bytes = dearmor(kind.armor, text);
  if (!bytes) return Status::error(std::string(kind.name) + " " + path + ": " + bytes.message() + "; " + kind.fix);
  return bytes;
}

// A decoder's refusal as a one-line error about the file.
Status damaged(const std::string& path, const FileKind& kind, const std::string& why) {
  return Status::error(std::string(kind.name) + " " + path + ": " + why +
                       "; the file is damaged or not a zeqvpn one: " + kind.fix);
}

// Writes all of text to fd and makes it durable.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(size_t(n));
  }
  return ::fsync(fd) == 0;
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// After a rename, the directory entry itself is made durable.
void sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

namespace {

// The block of `kind` in the file at `path`, decoded; the error names the file.
template <typename T>
Result<T> load_decoded(const std::string& path, const FileKind& kind, bool secret, Result<T> (*decode)(ByteSpan)) {
  auto bytes = load_block(path, kind, secret);
  if (!bytes) return bytes.status();
  auto value = decode(*bytes);
  if (secret) secure_wipe(bytes->data(), bytes->size());
  if (!value) return damaged(path, kind, value.message());
  return value;
}

}  // namespace

Result<CaPublicKey> load_ca_public_key(const std::string& path) {
  return load_decoded(path, CA_PUBLIC_FILE, false, &decode_ca_public_key);
}

Result<CaPrivateKey> load_ca_private_key(const std::string& path) {
  return load_decoded(path, CA_PRIVATE_FILE, true, &decode_ca_private_key);
}

Result<Certificate> load_certificate(const std::string& path) {
  return load_decoded(path, CERTIFICATE_FILE, false, &decode_certificate);
}

Result<RevocationList> load_revocation_list(const std::string& path) {
  return load_decoded(path, LIST_FILE, false, &decode_revocation_list);
}

Result<std::string> load_armored_text(const std::string& path) {
  static const FileKind ANY{"file", "", MAX_REVOCATION_LIST_FILE_BYTES,
                            "give a certificate, revocation list or ca.pub file"};
  std::string text;
  if (Status s = read_text(path, ANY, text, false); !s) return s;
  return text;
}

Status write_new_file(const std::string& path, std::string_view text, mode_t mode) {
  // O_EXCL: never replaces a file (nor follows a symlink planted there);
  // the mode is set at creation, so the file is never readable by others
  // for a moment.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    int error = errno;
    if (error == EEXIST)
      return Status::error(path + " exists; it is not replaced (it may be in use): move it away first, or choose "
                                  "another path");
    return Status::error(path + ": cannot create it (" + errno_text(error) + "); check the directory and its permissions");
  }
  FdCloser closer{fd};
  if (!write_all(fd, text)) {
    int error = errno;
    ::unlink(path.c_str());
    return Status::error(path + ": writing failed (" + errno_text(error) + "); nothing was left behind, check the disk");
  }
  return Status::ok();
}

Status replace_file(const std::string& path, std::string_view text, mode_t mode) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // a leftover of an earlier run of this pid
  if (Status s = write_new_file(tmp, text, mode); !s) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(tmp.c_str());
    return Status::error(path + ": cannot replace it (" + errno_text(error) + "); check the directory's permissions");
  }
  sync_directory(directory_of(path));
  return Status::ok();
}

Status write_ca_key_files(const std::string& dir, const CaPrivateKey& ca) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    int error = errno;
    return Status::error(dir + ": cannot create the CA directory (" + errno_text(error) +
                         "); create its parent, or give another --dir");
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::error(dir + " is not a directory; give a directory to --dir");
  const std::string key_path = dir + "/ca.key", pub_path = dir + "/ca.pub";
  for (const auto& p : {key_path, pub_path})
    if (::lstat(p.c_str(), &st) == 0)
      return Status::error(p + " exists; a CA is never replaced by accident: move " + dir +
                           "'s CA files away first, or give another --dir");
  Bytes key_bytes = encode_ca_private_key(ca);
  std::string key_text = armor(ARMOR_CA_PRIVATE_KEY, key_bytes);
  secure_wipe(key_bytes.data(), key_bytes.size());
  Status written = write_new_file(key_path, key_text, 0600);
  secure_wipe(key_text.data(), key_text.size());
  if (!written) return written;
  const CaPublicKey pub = ca.public_key();
  std::string pub_text = "# zeqvpn mesh CA \"" + ca.name + "\", fingerprint " + to_hex(pub.fingerprint()) + "\n" +
                         armor(ARMOR_CA_PUBLIC_KEY, encode_ca_public_key(pub));
  if (Status s = write_new_file(pub_path, pub_text, 0644); !s) {
    ::unlink(key_path.c_str());  // all or nothing: a key without its public half is a trap
    return s;
  }
  sync_directory(dir);
  return Status::ok();
}

}  // namespace zeq
