// OpenRecordStore: the store a --db text names. A text starting with postgresql:// or
// postgres:// is a PostgreSQL connection URI (libpq's syntax; any connection parameter may
// ride along as ?key=value): the PostgresStore, its schema created or migrated on the way.
// Anything else is the path of a SQLite file (create: make it when missing). DisplayDb is
// the text safe to log: a URI's password is masked.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "receiver/core/record_store.h"

namespace fleet::receiver {

bool IsPostgresUrl(std::string_view db);
Result<std::unique_ptr<RecordStore>> OpenRecordStore(const std::string& db, bool create);
std::string DisplayDb(std::string_view db);

}  // namespace fleet::receiver
