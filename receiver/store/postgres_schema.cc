#include "receiver/store/postgres_schema.h"

#include <array>
#include <type_traits>
#include <variant>
#include <vector>

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

// The decoded fields of each stored record (protocol/records.h), a table per record type
// with fields, keyed like records: what the reports read. Times are unix seconds.
constexpr std::string_view kTypedTables = R"sql(
CREATE TABLE heartbeats (
  node TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL,
  minute BIGINT NOT NULL, up BOOLEAN NOT NULL, checks TEXT NOT NULL,
  ntp_synced BOOLEAN NOT NULL,
  PRIMARY KEY (node, epoch, seq)
);
CREATE INDEX heartbeats_by_minute ON heartbeats (node, minute);
CREATE TABLE task_runs (
  node TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL,
  job TEXT NOT NULL, name TEXT NOT NULL, run_at BIGINT NOT NULL, ok BOOLEAN NOT NULL,
  error TEXT,
  PRIMARY KEY (node, epoch, seq)
);
CREATE INDEX task_runs_by_run_at ON task_runs (node, run_at);
CREATE TABLE incidents (
  node TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL,
  incident_id BIGINT NOT NULL, check_name TEXT NOT NULL, opened BIGINT NOT NULL,
  closed BIGINT, summary TEXT NOT NULL,
  PRIMARY KEY (node, epoch, seq)
);
CREATE INDEX incidents_by_opened ON incidents (node, opened);
CREATE TABLE agent_starts (
  node TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL,
  clean_previous_stop BOOLEAN NOT NULL, rebooted BOOLEAN NOT NULL,
  PRIMARY KEY (node, epoch, seq)
);
)sql";

// A typed table's insert: its columns after (node, epoch, seq), and their values from the
// statement's parameters $4 on (typed explicitly: the values are also SELECTed).
struct TypedInsert {
  std::string_view name;
  std::string_view table;
  std::string_view columns;
  std::string_view values;
};

constexpr std::array<TypedInsert, 4> kTypedInserts = {{
    {"insert_heartbeat", "heartbeats", "minute, up, checks, ntp_synced",
     "$4::bigint, $5::boolean, $6::text, $7::boolean"},
    {"insert_task", "task_runs", "job, name, run_at, ok, error",
     "$4::text, $5::text, $6::bigint, $7::boolean, CASE WHEN $9::text = 'true' THEN $8::text END"},
    {"insert_incident", "incidents", "incident_id, check_name, opened, closed, summary",
     "$4::bigint, $5::text, $6::bigint, NULLIF($7::text, '')::bigint, $8::text"},
    {"insert_agent_start", "agent_starts", "clean_previous_stop, rebooted",
     "$4::boolean, $5::boolean"},
}};

// Parameter n of `values` as $n + shift ($1..$3, the key, stay).
std::string ShiftParameters(std::string_view values, int shift) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] != '$') {
      out += values[i];
      continue;
    }
    std::size_t end = i + 1;
    int n = 0;
    while (end < values.size() && values[end] >= '0' && values[end] <= '9') {
      n = n * 10 + (values[end++] - '0');
    }
    out += "$" + std::to_string(n > 3 ? n + shift : n);
    i = end - 1;
  }
  return out;
}

std::string TypedInsertSql(const TypedInsert& insert) {
  return "INSERT INTO " + std::string(insert.table) + " (node, epoch, seq, " +
         std::string(insert.columns) + ") VALUES ($1, $2, $3, " + std::string(insert.values) +
         ") ON CONFLICT DO NOTHING";
}

const std::vector<std::pair<std::string, std::string>>& TypedStatements() {
  static const auto statements = [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& insert : kTypedInserts) {
      out.emplace_back(std::string(insert.name), TypedInsertSql(insert));
    }
    return out;
  }();
  return statements;
}

std::string Bool(bool value) { return value ? "true" : "false"; }

// Typed rows for the records stored before migration 4, a page at a time in key order.
Outcome FillTypedTables(PgConnection& db) {
  constexpr int kPage = 2000;
  std::string node;
  std::int64_t epoch = 0, seq = 0;
  for (;;) {
    auto page = db.Exec(
        "SELECT node, epoch, seq, payload FROM records WHERE (node, epoch, seq) > ($1, $2, $3) "
        "ORDER BY node, epoch, seq LIMIT " +
            std::to_string(kPage),
        {node, std::to_string(epoch), std::to_string(seq)});
    if (!page) return Error{page.error()};
    for (int i = 0; i < page->Rows(); ++i) {
      node = page->Text(i, 0);
      epoch = page->Int(i, 1);
      seq = page->Int(i, 2);
      auto decoded = protocol::DecodeRecord(page->Text(i, 3));
      if (!decoded) continue;  // stored under older, looser rules: the reports leave it out
      if (auto row = TypedRowOf(node, epoch, seq, *decoded)) {
        if (auto done = db.Exec(row->sql, row->params); !done) {
          return Error{done.error()};
        }
      }
    }
    if (page->Rows() < kPage) return Success();
  }
}

constexpr std::array kMigrations = {
    PgMigration{1, "nodes, records, forks, watermarks", kInitial, nullptr},
    PgMigration{2, "operators, referrals", kRegistry, nullptr},
    PgMigration{3, "records by node and time", kRecordsByTime, nullptr},
    PgMigration{4, "typed columns of records", kTypedTables, FillTypedTables},
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
    if (migration.fill != nullptr) {
      if (auto filled = migration.fill(db); !filled) {
        return Error{"schema migration " + std::to_string(migration.version) + ": " +
                     filled.error()};
      }
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

std::span<const std::pair<std::string, std::string>> TypedRowStatements() {
  return TypedStatements();
}

std::string StoredWithTypedRowSql(std::string_view record_insert, std::string_view name,
                                  int record_parameters) {
  for (const auto& insert : kTypedInserts) {
    if (insert.name != name) continue;
    return "WITH stored AS (" + std::string(record_insert) + " RETURNING 1) INSERT INTO " +
           std::string(insert.table) + " (node, epoch, seq, " + std::string(insert.columns) +
           ") SELECT $1, $2::bigint, $3::bigint, " +
           ShiftParameters(insert.values, record_parameters - 3) + " FROM stored";
  }
  return {};
}

std::optional<PgTypedRow> TypedRowOf(const std::string& node, std::int64_t epoch, std::int64_t seq,
                                     const protocol::Record& record) {
  const auto insert = [&](std::size_t which, std::vector<std::string> fields) {
    PgParams params = {node, std::to_string(epoch), std::to_string(seq)};
    for (auto& field : fields) params.push_back(std::move(field));
    return PgTypedRow{kTypedInserts[which].name, TypedStatements()[which].second,
                      std::move(params)};
  };
  return std::visit(
      [&](const auto& body) -> std::optional<PgTypedRow> {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Body, protocol::Heartbeat>) {
          return insert(0, {std::to_string(body.minute), Bool(body.up),
                            protocol::EncodeCheckStates(body.checks), Bool(body.ntp_synced)});
        } else if constexpr (std::is_same_v<Body, protocol::TaskRun>) {
          return insert(1, {body.job, body.name, std::to_string(body.run_at), Bool(body.ok),
                            body.error.value_or(""), Bool(body.error.has_value())});
        } else if constexpr (std::is_same_v<Body, protocol::Incident>) {
          return insert(2, {std::to_string(body.id), body.check, std::to_string(body.opened),
                            body.closed ? std::to_string(*body.closed) : "", body.summary});
        } else if constexpr (std::is_same_v<Body, protocol::AgentStart>) {
          return insert(3, {Bool(body.clean_previous_stop), Bool(body.rebooted)});
        } else {
          return std::nullopt;
        }
      },
      record.body);
}

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
