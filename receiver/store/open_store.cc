#include "receiver/store/open_store.h"

#include <algorithm>

#include "receiver/store/postgres_store.h"
#include "receiver/store/sqlite_store.h"

namespace fleet::receiver {

bool IsPostgresUrl(std::string_view db) {
  return db.starts_with("postgresql://") || db.starts_with("postgres://");
}

Result<std::unique_ptr<RecordStore>> OpenRecordStore(const std::string& db, bool create) {
  if (IsPostgresUrl(db)) {
    auto store = PostgresStore::Open(db);
    if (!store) return Error{store.error()};
    return std::unique_ptr<RecordStore>(std::move(store).value());
  }
  auto store = SqliteStore::Open(db, create);
  if (!store) return Error{store.error()};
  return std::unique_ptr<RecordStore>(std::move(store).value());
}

std::string DisplayDb(std::string_view db) {
  std::string out(db);
  if (!IsPostgresUrl(db)) return out;
  // postgresql://user:PASSWORD@host/...: the userinfo ends at the last '@' of the authority.
  const std::size_t from = out.find("://") + 3;
  const std::size_t authority_end = std::min(out.find_first_of("/?", from), out.size());
  const std::size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= from) {
    const std::size_t colon = out.find(':', from);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // ...?password=PASSWORD&...
  for (std::size_t pos = out.find("password=", from); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    if (out[pos - 1] != '?' && out[pos - 1] != '&') continue;
    const std::size_t value = pos + 9;
    const std::size_t value_end = std::min(out.find('&', value), out.size());
    out.replace(value, value_end - value, "***");
  }
  return out;
}

}  // namespace fleet::receiver
