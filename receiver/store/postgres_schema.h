// The PostgreSQL store's schema as versioned migrations. ApplyMigrations brings a database
// up to the newest version this receiver knows: in one transaction, under an advisory lock
// (so receivers starting at once queue rather than race), it creates schema_migrations
// when missing and applies, in order, each migration whose version is not recorded there,
// recording it. Applying again changes nothing. A database already at a newer version than
// this receiver knows is refused (an older receiver must not write to a newer schema).
// Migrations are only ever appended to kPostgresMigrations, never edited once released.
#pragma once

#include <span>
#include <string_view>

#include "base/result.h"
#include "receiver/store/pg_connection.h"

namespace fleet::receiver {

struct PgMigration {
  int version;
  std::string_view name;
  std::string_view sql;
};

std::span<const PgMigration> PostgresMigrations();

// Returns the schema version the database is at afterwards.
Result<int> ApplyMigrations(PgConnection& db);

}  // namespace fleet::receiver
