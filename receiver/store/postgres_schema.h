// The PostgreSQL store's schema as versioned migrations. ApplyMigrations brings a database
// up to the newest version this receiver knows: in one transaction, under an advisory lock
// (so receivers starting at once queue rather than race), it creates schema_migrations
// when missing and applies, in order, each migration whose version is not recorded there,
// recording it. Applying again changes nothing. A database already at a newer version than
// this receiver knows is refused (an older receiver must not write to a newer schema).
// Migrations are only ever appended to kPostgresMigrations, never edited once released.
// Migration 4 adds the typed tables (the decoded fields of each stored record: heartbeats,
// task_runs, incidents, agent_starts) and fills them from the records already stored;
// records stored under older, looser rules that do not decode get no typed row.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "protocol/records.h"
#include "receiver/store/pg_connection.h"

namespace fleet::receiver {

struct PgMigration {
  int version;
  std::string_view name;
  std::string_view sql;
  Outcome (*fill)(PgConnection& db);  // after sql, in the same transaction; may be null
};

// The typed row of a stored record: the statement that writes it (prepared under `name` by
// the store), and its parameters. nullopt for a type without fields (agent_stop).
struct PgTypedRow {
  std::string_view name;
  std::string_view sql;
  PgParams params;
};
std::optional<PgTypedRow> TypedRowOf(const std::string& node, std::int64_t epoch, std::int64_t seq,
                                     const protocol::Record& record);
// Every statement TypedRowOf may name, for preparing.
std::span<const std::pair<std::string_view, std::string_view>> TypedRowStatements();

std::span<const PgMigration> PostgresMigrations();

// Returns the schema version the database is at afterwards.
Result<int> ApplyMigrations(PgConnection& db);

}  // namespace fleet::receiver
