// The mesh authority's files (identity/certificate.hpp), read and written
// for zeqvpnd and zeqvpnctl: CA keys, certificates and revocation lists, all
// armoured text. Files are read as loader/regular_file.hpp reads them (a
// regular file, bounded); every error is one line naming the file, the
// problem and the fix.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "identity/certificate.hpp"

namespace zeq {

// Bounds on what is read: a certificate or key file is a few hundred bytes
// (plus comments); a revocation list of 200 000 entries fits.
inline constexpr size_t MAX_CERTIFICATE_FILE_BYTES = 64 << 10;
inline constexpr size_t MAX_REVOCATION_LIST_FILE_BYTES = 10 << 20;

Result<CaPublicKey> load_ca_public_key(const std::string& path);
// Refused when group or others may read it, as the node's key file is.
Result<CaPrivateKey> load_ca_private_key(const std::string& path);
Result<Certificate> load_certificate(const std::string& path);
Result<RevocationList> load_revocation_list(const std::string& path);
// The text of an armoured file of any kind (`zeqvpnctl cert show` tells a
// certificate from a list by its armour).
Result<std::string> load_armored_text(const std::string& path);

// Writes DIR/ca.key (mode 0600, created so, never chmod-ed after) and
// DIR/ca.pub (0644), making DIR (0700) when it is missing. Replaces neither:
// an existing one is an error and nothing is written.
Status write_ca_key_files(const std::string& dir, const CaPrivateKey& ca);
// Creates path with mode and writes text; an existing file is an error.
Status write_new_file(const std::string& path, std::string_view text, mode_t mode);
// Writes text to path atomically (a temporary file in the same directory,
// fsync, rename): a reader sees the old file or the new, never half of one.
Status replace_file(const std::string& path, std::string_view text, mode_t mode);

}  // namespace zeq
