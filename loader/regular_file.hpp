// Reading a file that an operator named, without trusting what it is: the
// path is opened without blocking (a FIFO would otherwise wait for a writer
// forever), checked with fstat on the opened descriptor (no race with a
// rename between a stat and the open), refused unless it is a regular file,
// and read up to a bound (/dev/zero or a runaway file would otherwise grow
// without end). Symbolic links are followed: a config or key file linked
// from elsewhere is normal.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>

namespace zeq {

struct RegularFileRead {
  enum Problem { kNone, kCannotOpen, kNotRegular, kTooLarge } problem = kNone;
  // kCannotOpen: strerror; kNotRegular: what it is instead ("a FIFO (named
  // pipe)"); kTooLarge: empty. Never any content.
  std::string detail;
  int error = 0;    // kCannotOpen: the errno (ENOENT: there is no such file)
  size_t size = 0;  // bytes read into the buffer
  mode_t mode = 0;  // st_mode of the opened file (permission checks)

  explicit operator bool() const { return problem == kNone; }
};

// Reads the whole of path into buf, which must have room for all of it: a
// file with more than buf.size() bytes is refused (kTooLarge), not
// truncated. read(2) into the caller's buffer only, so a secret leaves no
// copy behind. Callers turn a problem into an error that names the file and
// says how to fix it.
RegularFileRead read_regular_file(const std::string& path, std::span<char> buf);

// The same into text, for files of up to max_bytes: text is sized from the
// file's length (plus a page, for a file that grows or a /proc file that
// says 0), not to max_bytes, so a 2 KB config does not cost a zero-filled
// MiB (256 page faults at start-up). A file that outgrows that first guess
// is read again from the start into max_bytes, and the first buffer is
// wiped before it is freed: a secret is never left in freed memory. On
// success text holds exactly what was read; otherwise it is empty.
RegularFileRead read_regular_file(const std::string& path, std::string& text, size_t max_bytes);

// "a FIFO (named pipe)", "a character device", ...: what a non-regular
// st_mode is, for errors.
std::string file_type_name(mode_t mode);

// True when group or others have any permission on the file. A file that
// holds a private key (the node's, a CA's) is refused then, as ssh refuses
// its keys: whoever could read it could have copied the key.
bool open_to_others(mode_t mode);
// A mode's permission bits as chmod takes them ("0640"), for errors.
std::string octal_mode(mode_t mode);

}  // namespace zeq
