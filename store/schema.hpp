// The state database's schema, versioned with PRAGMA user_version. Each
// migration runs once, in its own transaction, in order; a database newer
// than this binary is refused rather than guessed at.
#pragma once

#include "store/database.hpp"

namespace zeq {

inline constexpr int SCHEMA_VERSION = 4;

Status migrate(Database& db);
Result<int> schema_version(Database& db);

}  // namespace zeq
