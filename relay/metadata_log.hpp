// The relay's metadata log (`relay.metadata_log: off|summary`): what the
// threat model says a relay may be compelled to keep, and nothing more. With
// kOff nothing is ever written and the file is never created. With kSummary
// one line per relayed pair is appended when the pair ends:
//
//   stop_z=N<TAB>requester=ZID<TAB>requester_endpoint=ADDR<TAB>target=ZID<TAB>
//   target_endpoint=ADDR<TAB>start_z=N<TAB>up_bytes=N<TAB>down_bytes=N<LF>
//
// (one line; the fields always in this order, keys exactly these).
//   stop_z, start_z  the Zeqonds the pair ended and started (decimal)
//   requester        the ZID of the end that asked for the pair (and pays)
//   target           the ZID of the end that agreed to it
//   *_endpoint       the UDP address the relay saw for that end,
//                    "198.51.100.7:51820" or "[2001:db8::7]:51820"; "-" when
//                    unknown
//   up_bytes         bytes forwarded requester -> target (e2e message
//                    lengths, as RelayedBytes counts them)
//   down_bytes       bytes forwarded target -> requester
// No keys, prices, ciphertext or packet contents. A ZID character outside
// [A-Za-z0-9._:-] is written as '?', so a field can never hold a tab or a
// line break.
//
// The file is opened O_APPEND (a line is one write), mode 0640; its
// directory is created 0750 when missing. prune() drops the lines whose
// stop_z is more than the retention before now, by writing the rest to a
// temporary file (0640) and renaming it over the log; a line that cannot be
// read (a torn last line after a crash) cannot be dated and is dropped with
// them. Errors come back as a Status: one line naming the path and the fix.
// Control thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/modes.hpp"
#include "core/result.hpp"
#include "relay/relay_events.hpp"

namespace zeq {

class MetadataLog {
 public:
  MetadataLog(RelayMetadataLog mode, std::string path, uint64_t retention_z)
      : mode_(mode), path_(std::move(path)), retention_z_(retention_z) {}
  ~MetadataLog();
  MetadataLog(const MetadataLog&) = delete;
  MetadataLog& operator=(const MetadataLog&) = delete;

  bool enabled() const { return mode_ != RelayMetadataLog::kOff; }
  const std::string& path() const { return path_; }
  uint64_t retention_z() const { return retention_z_; }

  // Opens (creating) the file now, so that a bad path is reported at
  // start-up rather than when the first pair ends; record() opens it when
  // needed too. Does nothing with kOff.
  Status open();
  // Appends the pair's line (format above). Does nothing with kOff.
  Status record(const RelayedPair& pair, const RelayedBytes& bytes, uint64_t stopped_z);
  // Removes the lines whose stop_z is older than now_z - retention (and
  // unreadable lines); returns how many went. The file is rewritten only
  // when one does. Does nothing with kOff, nor when there is no file yet.
  Result<size_t> prune(uint64_t now_z);

  // The line record() writes, without the line break (for tests and docs).
  static std::string line_of(const RelayedPair& pair, const RelayedBytes& bytes, uint64_t stopped_z);

 private:
  RelayMetadataLog mode_;
  std::string path_;
  uint64_t retention_z_;
  int fd_ = -1;
};

}  // namespace zeq
