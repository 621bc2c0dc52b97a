// MetaTable: the key/value `meta` table of history.db (schema version, epoch, next seq,
// chain head, spool counters), read and written through any open connection, inside the
// caller's transaction when there is one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/sqlite_db.h"

namespace fleet {

Result<std::optional<std::string>> ReadMeta(SqliteDb& db, const std::string& key);
Outcome WriteMeta(SqliteDb& db, const std::string& key, const std::string& value);
// An integer value; `fallback` when the key is absent, an error when it is not a number.
Result<std::int64_t> ReadMetaInt(SqliteDb& db, const std::string& key, std::int64_t fallback);
Outcome WriteMetaInt(SqliteDb& db, const std::string& key, std::int64_t value);

}  // namespace fleet
