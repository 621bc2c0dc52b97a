// The PostgreSQL store's schema as versioned migrations. ApplyMigrations brings a database
// up to the newest version this receiver knows: in one transaction, under an advisory lock
// (so receivers starting at once queue rather than race), it creates schema_migrations
// when missing and applies, in order, each migration whose version is not recorded there,
// recording it (so a migration numbered below the newest applied, merged later, is still
// applied). Applying again changes nothing. A database already at a newer version than
// this receiver knows is refused (an older receiver must not write to a newer schema).
// Migrations are only ever appended to kPostgresMigrations, never edited once released.
// Migration 4 adds the typed tables (the decoded fields of each stored record: heartbeats,
// task_runs, incidents, agent_starts) and fills them from the records already stored;
// records stored under older, looser rules that do not decode get no typed row. Migration
// 5 does the same for acks and maintenance_windows, 8 for remediations. Migration 6 adds the
// alerting tables (alert_schema.h); 7 a node's revocation reason and the operators revoked;
// 9 the keys nodes rotated to (node_keys); 10 enrolment's tokens and nonces.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "protocol/records.h"
#include "receiver/core/record_verify.h"
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
// received_at: when the receiver got the record (an ack's row says whether it was live).
struct PgTypedRow {
  std::string_view name;
  std::string sql;
  PgParams params;  // $1..$3 the key (node, epoch, seq), then the fields
};
std::optional<PgTypedRow> TypedRowOf(const std::string& node, std::int64_t epoch, std::int64_t seq,
                                     const protocol::Record& record, std::int64_t received_at);
// Every statement TypedRowOf may name (name, SQL), for preparing.
std::span<const std::pair<std::string, std::string>> TypedRowStatements();
// One statement, one round trip: `record_insert` (an INSERT of the record whose first three
// parameters are node, epoch, seq, of record_parameters in all) and, when it stored a row,
// the typed row `name` (its fields as parameters record_parameters + 1 on). Its affected
// count is 1 when the record was stored.
std::string StoredWithTypedRowSql(std::string_view record_insert, std::string_view name,
                                  int record_parameters);

// One statement, one round trip, for the records of a batch (one node and epoch) and their
// typed rows: each column of values travels as one array parameter (unnest). Records go in
// batch order, ON CONFLICT DO NOTHING (so a seq taken, before or earlier in the batch, is
// left out), and a typed row only with the record it belongs to. Its rows are the (seq,
// hash) of every record it stored.
const std::string& BatchInsertSql();
// The parameters of BatchInsertSql for `records` (not empty, all of one node and epoch).
PgParams BatchInsertParams(std::span<const VerifiedRecord> records, std::int64_t received_at);

std::span<const PgMigration> PostgresMigrations();

// Returns the schema version the database is at afterwards.
Result<int> ApplyMigrations(PgConnection& db);

}  // namespace fleet::receiver
