#include "receiver/store/postgres_schema.h"

#include <array>

namespace fleet::receiver {
namespace {

// pg_advisory_xact_lock key of the schema: "fleetrcv" as a number.
constexpr std::string_view kLockKey = "7380385375773156214";

// Same tables and meaning as the SQLite store (sqlite_store.cc).
constexpr std::string_view kInitial = R"sql(
CREATE TABLE nodes (
  node TEXT PRIMARY KEY,
  operator TEXT NOT NULL,
  kid TEXT NOT NULL UNIQUE,
  public_key TEXT NOT NULL,
  added_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE TABLE records (
  node TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  type TEXT NOT NULL,
  t TEXT NOT NULL,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL,
  payload TEXT NOT NULL,
  jws TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (node, epoch, seq)
);
CREATE TABLE forks (
  node TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  jws TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (node, epoch, seq, hash)
);
CREATE TABLE watermarks (
  node TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  ack_seq BIGINT NOT NULL,
  ack_hash TEXT NOT NULL,
  PRIMARY KEY (node, epoch)
);
)sql";

// The registry beyond node keys, for the reports (as SqliteReportSource's tables).
constexpr std::string_view kRegistry = R"sql(
CREATE TABLE operators (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  since BIGINT NOT NULL
);
CREATE TABLE referrals (
  partner TEXT NOT NULL,
  referred TEXT NOT NULL,
  date BIGINT NOT NULL,
  PRIMARY KEY (partner, referred)
);
)sql";

// Records of a node by time (the rate bound at ingest, the reports' time ranges), in byte
// order as every comparison of t is made.
constexpr std::string_view kRecordsByTime = R"sql(
CREATE INDEX records_by_node_t ON records (node, t COLLATE "C");
)sql";

constexpr std::array kMigrations = {
    PgMigration{1, "nodes, records, forks, watermarks", kInitial},
    PgMigration{2, "operators, referrals", kRegistry},
    PgMigration{3, "records by node and time", kRecordsByTime},
};

Result<int> MigrateInTransaction(PgConnection& db) {
  if (auto locked = db.Exec("SELECT pg_advisory_xact_lock(" + std::string(kLockKey) + ")", {});
      !locked) {
    return Error{locked.error()};
  }
  if (auto made =
          db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                  "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      !made) {
    return Error{made.error()};
  }
  auto current = db.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current) return Error{current.error()};
  int version = static_cast<int>(current->Int(0, 0));
  const int newest = kMigrations.back().version;
  if (version > newest) {
    return Error{"the database schema is at version " + std::to_string(version) +
                 ", newer than this fleet-receiver knows (" + std::to_string(newest) +
                 "): upgrade the receiver"};
  }
  for (const auto& migration : kMigrations) {
    if (migration.version <= version) continue;
    if (auto done = db.Exec(migration.sql); !done) {
      return Error{"schema migration " + std::to_string(migration.version) + ": " + done.error()};
    }
    if (auto noted = db.Exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                             {std::to_string(migration.version), std::string(migration.name)});
        !noted) {
      return Error{noted.error()};
    }
    version = migration.version;
  }
  return version;
}

}  // namespace

std::span<const PgMigration> PostgresMigrations() { return kMigrations; }

Result<int> ApplyMigrations(PgConnection& db) {
  if (auto begun = db.Exec("BEGIN"); !begun) return Error{begun.error()};
  auto version = MigrateInTransaction(db);
  if (!version) {
    (void)db.Exec("ROLLBACK");
    return version;
  }
  if (auto committed = db.Exec("COMMIT"); !committed) return Error{committed.error()};
  return version;
}

}  // namespace fleet::receiver
