#include "agent/history/meta_table.h"

#include <charconv>

namespace fleet {

Result<std::optional<std::string>> ReadMeta(SqliteDb& db, const std::string& key) {
  auto stmt = db.Prepare("SELECT value FROM meta WHERE key = ?");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(key));
  auto row = (*stmt)->Step();
  if (!row) return Error{row.error()};
  if (!*row) return std::optional<std::string>{};
  return std::optional<std::string>((*stmt)->Text(0));
}

Outcome WriteMeta(SqliteDb& db, const std::string& key, const std::string& value) {
  auto stmt = db.Prepare(
      "INSERT INTO meta(key, value) VALUES(?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!stmt) return Error{stmt.error()};
  return (*stmt)->Bind(1, std::string_view(key)).Bind(2, std::string_view(value)).Run();
}

Result<std::int64_t> ReadMetaInt(SqliteDb& db, const std::string& key, std::int64_t fallback) {
  auto text = ReadMeta(db, key);
  if (!text) return Error{text.error()};
  if (!text->has_value()) return fallback;
  std::int64_t value = 0;
  const std::string& s = **text;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return Error{"history meta '" + key + "' is corrupt: '" + s + "'"};
  }
  return value;
}

Outcome WriteMetaInt(SqliteDb& db, const std::string& key, std::int64_t value) {
  return WriteMeta(db, key, std::to_string(value));
}

}  // namespace fleet
