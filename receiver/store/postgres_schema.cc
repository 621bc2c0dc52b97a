#include "receiver/store/postgres_schema.h"

#include "receiver/core/live_arrival.h"
#include "receiver/store/alert_schema.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <set>
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

// Acknowledgements and maintenance windows, typed as kTypedTables (as SQLite's tables).
// live: received within kLiveWithinSeconds of at (receiver/core/live_arrival.h).
constexpr std::string_view kAckTables = R"sql(
CREATE TABLE acks (
  node TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL,
  incident BIGINT NOT NULL, at BIGINT NOT NULL, by TEXT NOT NULL, via TEXT NOT NULL,
  note TEXT, received_at BIGINT NOT NULL, live BOOLEAN NOT NULL,
  PRIMARY KEY (node, epoch, seq)
);
CREATE INDEX acks_by_at ON acks (node, at);
CREATE TABLE maintenance_windows (
  node TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL,
  from_at BIGINT NOT NULL, until_at BIGINT NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL,
  PRIMARY KEY (node, epoch, seq)
);
CREATE INDEX maintenance_windows_by_from ON maintenance_windows (node, from_at);
)sql";

// Revocation with a reason, and operators that left (as SQLite's schema). IF NOT EXISTS: the
// tests replay later migrations over a database made older by hand.
constexpr std::string_view kRevocations = R"sql(
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS revoke_reason TEXT;
CREATE TABLE IF NOT EXISTS operator_revocations (
  operator TEXT PRIMARY KEY,
  revoked_at BIGINT NOT NULL,
  reason TEXT NOT NULL
);
)sql";

// Remediations, typed as kTypedTables (as SQLite's table); changed and incident may be NULL.
constexpr std::string_view kRemediationTables = R"sql(
CREATE TABLE remediations (
  node TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL,
  check_name TEXT NOT NULL, target TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL,
  attempt BIGINT NOT NULL, started BIGINT NOT NULL, finished BIGINT NOT NULL,
  outcome TEXT NOT NULL, changed TEXT, incident BIGINT,
  PRIMARY KEY (node, epoch, seq)
);
CREATE INDEX remediations_by_started ON remediations (node, started);
)sql";

// Keys nodes moved to by key_rotate records (RecordStore::AddRotatedKey): kid belongs to
// node from since (the record's t, at epoch/seq of its chain); old_kid signs nothing after.
// added orders a node's keys as they came.
constexpr std::string_view kNodeKeys = R"sql(
CREATE TABLE IF NOT EXISTS node_keys (
  kid TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  public_key TEXT NOT NULL,
  old_kid TEXT NOT NULL UNIQUE,
  since BIGINT NOT NULL,
  epoch BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  added_at BIGINT NOT NULL,
  added BIGSERIAL
);
CREATE INDEX IF NOT EXISTS node_keys_by_node ON node_keys (node);
)sql";

// Enrolment (receiver/registry/enrolments.h): one-time tokens (their SHA-256 digest) and
// the nonces handed out.
constexpr std::string_view kEnrolment = R"sql(
CREATE TABLE IF NOT EXISTS enrol_tokens (
  token_hash TEXT PRIMARY KEY,
  operator TEXT NOT NULL,
  node TEXT,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  used_by TEXT
);
CREATE TABLE IF NOT EXISTS enrol_nonces (
  nonce TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
)sql";

// Closed months and operators' wallets (receiver/store/closed_statements.h).
constexpr std::string_view kClosedStatements = R"sql(
CREATE TABLE IF NOT EXISTS closed_statements (
  month TEXT PRIMARY KEY, closed_at BIGINT NOT NULL, receiver_kid TEXT NOT NULL,
  jws TEXT NOT NULL, record_list TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS operator_wallets (
  operator TEXT PRIMARY KEY, address TEXT NOT NULL, chain TEXT NOT NULL, token TEXT NOT NULL
);
)sql";

// The dashboard's access tokens and login sessions (receiver/access/access_tokens.h; as
// SQLite's tables).
constexpr std::string_view kAccess = R"sql(
CREATE TABLE IF NOT EXISTS access_tokens (
  id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, operator TEXT, label TEXT NOT NULL,
  created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT, last_used_at BIGINT
);
CREATE TABLE IF NOT EXISTS web_sessions (
  secret_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL, host TEXT NOT NULL,
  created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_by_token ON web_sessions (token_id);
)sql";

// A typed table's insert: its columns after (node, epoch, seq), and their values from the
// statement's parameters $4 on (typed explicitly: the values are also SELECTed).
struct TypedInsert {
  std::string_view name;
  std::string_view table;
  std::string_view columns;
  std::string_view values;
};

constexpr std::array<TypedInsert, 7> kTypedInserts = {{
    {"insert_heartbeat", "heartbeats", "minute, up, checks, ntp_synced",
     "$4::bigint, $5::boolean, $6::text, $7::boolean"},
    {"insert_task", "task_runs", "job, name, run_at, ok, error",
     "$4::text, $5::text, $6::bigint, $7::boolean, CASE WHEN $9::text = 'true' THEN $8::text END"},
    {"insert_incident", "incidents", "incident_id, check_name, opened, closed, summary",
     "$4::bigint, $5::text, $6::bigint, NULLIF($7::text, '')::bigint, $8::text"},
    {"insert_agent_start", "agent_starts", "clean_previous_stop, rebooted",
     "$4::boolean, $5::boolean"},
    {"insert_ack", "acks", "incident, at, by, via, note, received_at, live",
     "$4::bigint, $5::bigint, $6::text, $7::text, CASE WHEN $9::text = 'true' THEN $8::text END, "
     "$10::bigint, $11::boolean"},
    {"insert_maintenance", "maintenance_windows", "from_at, until_at, reason, by",
     "$4::bigint, $5::bigint, $6::text, $7::text"},
    {"insert_remediation", "remediations",
     "check_name, target, action, reason, attempt, started, finished, outcome, changed, incident",
     "$4::text, $5::text, $6::text, $7::text, $8::bigint, $9::bigint, $10::bigint, $11::text, "
     "CASE WHEN $13::text = 'true' THEN $12::text END, NULLIF($14::text, '')::bigint"},
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

// Typed rows for the stored records of `types`, a page at a time in key order; records of
// other types are left alone (a later migration makes their tables).
Outcome FillTypedRows(PgConnection& db, std::initializer_list<protocol::RecordType> types) {
  constexpr int kPage = 2000;
  PgArray names;
  for (auto type : types) names.AddText(protocol::RecordTypeName(type));
  std::string node;
  std::int64_t epoch = 0, seq = 0;
  for (;;) {
    auto page = db.Exec(
        "SELECT node, epoch, seq, payload, received_at FROM records "
        "WHERE (node, epoch, seq) > ($1, $2, $3) AND type = ANY($4::text[]) "
        "ORDER BY node, epoch, seq LIMIT " +
            std::to_string(kPage),
        {node, std::to_string(epoch), std::to_string(seq), names.Text()});
    if (!page) return Error{page.error()};
    for (int i = 0; i < page->Rows(); ++i) {
      node = page->Text(i, 0);
      epoch = page->Int(i, 1);
      seq = page->Int(i, 2);
      auto decoded = protocol::DecodeRecord(page->Text(i, 3));
      if (!decoded) continue;  // stored under older, looser rules: the reports leave it out
      if (std::find(types.begin(), types.end(), decoded->Type()) == types.end()) continue;
      if (auto row = TypedRowOf(node, epoch, seq, *decoded, page->Int(i, 4))) {
        if (auto done = db.Exec(row->sql, row->params); !done) {
          return Error{done.error()};
        }
      }
    }
    if (page->Rows() < kPage) return Success();
  }
}

// Typed rows for the records stored before migration 4 (the types it made tables for).
Outcome FillTypedTables(PgConnection& db) {
  using protocol::RecordType;
  return FillTypedRows(db, {RecordType::kHeartbeat, RecordType::kTask, RecordType::kIncident,
                            RecordType::kAgentStart});
}

// Typed rows for acks and maintenance windows stored before migration 5.
Outcome FillAckTables(PgConnection& db) {
  return FillTypedRows(db, {protocol::RecordType::kAck, protocol::RecordType::kMaintenance});
}

// Typed rows for remediations stored before migration 8 (none: no receiver before it took
// them; kept for a database restored from elsewhere).
Outcome FillRemediationTables(PgConnection& db) {
  return FillTypedRows(db, {protocol::RecordType::kRemediation});
}

constexpr std::array kMigrations = {
    PgMigration{1, "nodes, records, forks, watermarks", kInitial, nullptr},
    PgMigration{2, "operators, referrals", kRegistry, nullptr},
    PgMigration{3, "records by node and time", kRecordsByTime, nullptr},
    PgMigration{4, "typed columns of records", kTypedTables, FillTypedTables},
    PgMigration{5, "acks and maintenance windows", kAckTables, FillAckTables},
    PgMigration{6, "alerting", kPostgresAlertTables, nullptr},
    PgMigration{7, "revocation reasons, operators revoked", kRevocations, nullptr},
    PgMigration{8, "remediations", kRemediationTables, FillRemediationTables},
    PgMigration{9, "keys nodes rotated to", kNodeKeys, nullptr},
    PgMigration{10, "enrolment tokens and nonces", kEnrolment, nullptr},
    PgMigration{12, "closed statements, operators' wallets", kClosedStatements, nullptr},
    PgMigration{13, "dashboard access tokens and sessions", kAccess, nullptr},
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
  // Versions are applied by what is recorded, not by the highest: a migration numbered
  // below one applied already (branches merged in another order) is still applied.
  auto applied = db.Exec("SELECT version FROM schema_migrations");
  if (!applied) return Error{applied.error()};
  std::set<int> recorded;
  for (int i = 0; i < applied->Rows(); ++i) recorded.insert(static_cast<int>(applied->Int(i, 0)));
  int version = recorded.empty() ? 0 : *recorded.rbegin();
  const int newest = kMigrations.back().version;
  if (version > newest) {
    return Error{"the database schema is at version " + std::to_string(version) +
                 ", newer than this fleet-receiver knows (" + std::to_string(newest) +
                 "): upgrade the receiver"};
  }
  for (const auto& migration : kMigrations) {
    if (recorded.contains(migration.version)) continue;
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
    version = std::max(version, migration.version);
  }
  return version;
}

}  // namespace

std::span<const PgMigration> PostgresMigrations() { return kMigrations; }

const std::string& BatchInsertSql() {
  // $1 node, $2 epoch, $3..$9 the records' columns, $10 received_at; then each typed
  // table's key (seq, hash: the record it belongs to) and fields, as kTypedTables,
  // kAckTables and kRemediationTables.
  static const std::string sql = R"sql(
WITH input AS (
  SELECT * FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::text[])
    WITH ORDINALITY AS i(seq, type, t, prev, hash, payload, jws, ord)
), stored AS (
  INSERT INTO records (node, epoch, seq, type, t, prev, hash, payload, jws, received_at)
  SELECT $1, $2::bigint, seq, type, t, prev, hash, payload, jws, $10::bigint
  FROM input ORDER BY ord
  ON CONFLICT (node, epoch, seq) DO NOTHING
  RETURNING seq, hash
), heartbeat_rows AS (
  INSERT INTO heartbeats (node, epoch, seq, minute, up, checks, ntp_synced)
  SELECT $1, $2::bigint, x.seq, x.minute, x.up, x.checks, x.ntp_synced
  FROM unnest($11::bigint[], $12::text[], $13::bigint[], $14::boolean[], $15::text[],
              $16::boolean[]) AS x(seq, hash, minute, up, checks, ntp_synced)
  JOIN stored USING (seq, hash)
  ON CONFLICT DO NOTHING
), task_rows AS (
  INSERT INTO task_runs (node, epoch, seq, job, name, run_at, ok, error)
  SELECT $1, $2::bigint, x.seq, x.job, x.name, x.run_at, x.ok, x.error
  FROM unnest($17::bigint[], $18::text[], $19::text[], $20::text[], $21::bigint[],
              $22::boolean[], $23::text[]) AS x(seq, hash, job, name, run_at, ok, error)
  JOIN stored USING (seq, hash)
  ON CONFLICT DO NOTHING
), incident_rows AS (
  INSERT INTO incidents (node, epoch, seq, incident_id, check_name, opened, closed, summary)
  SELECT $1, $2::bigint, x.seq, x.incident_id, x.check_name, x.opened, x.closed, x.summary
  FROM unnest($24::bigint[], $25::text[], $26::bigint[], $27::text[], $28::bigint[],
              $29::bigint[], $30::text[])
    AS x(seq, hash, incident_id, check_name, opened, closed, summary)
  JOIN stored USING (seq, hash)
  ON CONFLICT DO NOTHING
), start_rows AS (
  INSERT INTO agent_starts (node, epoch, seq, clean_previous_stop, rebooted)
  SELECT $1, $2::bigint, x.seq, x.clean_previous_stop, x.rebooted
  FROM unnest($31::bigint[], $32::text[], $33::boolean[], $34::boolean[])
    AS x(seq, hash, clean_previous_stop, rebooted)
  JOIN stored USING (seq, hash)
  ON CONFLICT DO NOTHING
), ack_rows AS (
  INSERT INTO acks (node, epoch, seq, incident, at, by, via, note, received_at, live)
  SELECT $1, $2::bigint, x.seq, x.incident, x.at, x.by, x.via, x.note, $10::bigint, x.live
  FROM unnest($35::bigint[], $36::text[], $37::bigint[], $38::bigint[], $39::text[],
              $40::text[], $41::text[], $42::boolean[])
    AS x(seq, hash, incident, at, by, via, note, live)
  JOIN stored USING (seq, hash)
  ON CONFLICT DO NOTHING
), maintenance_rows AS (
  INSERT INTO maintenance_windows (node, epoch, seq, from_at, until_at, reason, by)
  SELECT $1, $2::bigint, x.seq, x.from_at, x.until_at, x.reason, x.by
  FROM unnest($43::bigint[], $44::text[], $45::bigint[], $46::bigint[], $47::text[],
              $48::text[]) AS x(seq, hash, from_at, until_at, reason, by)
  JOIN stored USING (seq, hash)
  ON CONFLICT DO NOTHING
), remediation_rows AS (
  INSERT INTO remediations (node, epoch, seq, check_name, target, action, reason, attempt,
                            started, finished, outcome, changed, incident)
  SELECT $1, $2::bigint, x.seq, x.check_name, x.target, x.action, x.reason, x.attempt,
         x.started, x.finished, x.outcome, x.changed, x.incident
  FROM unnest($49::bigint[], $50::text[], $51::text[], $52::text[], $53::text[], $54::text[],
              $55::bigint[], $56::bigint[], $57::bigint[], $58::text[], $59::text[],
              $60::bigint[])
    AS x(seq, hash, check_name, target, action, reason, attempt, started, finished, outcome,
         changed, incident)
  JOIN stored USING (seq, hash)
  ON CONFLICT DO NOTHING
)
SELECT seq, hash FROM stored
)sql";
  return sql;
}

PgParams BatchInsertParams(std::span<const VerifiedRecord> records, std::int64_t received_at) {
  enum Column { kSeq, kType, kT, kPrev, kHash, kPayload, kJws, kRecordColumns };
  std::array<PgArray, kRecordColumns> columns;
  std::array<PgArray, 6> beats;      // seq, hash, minute, up, checks, ntp_synced
  std::array<PgArray, 7> tasks;      // seq, hash, job, name, run_at, ok, error
  std::array<PgArray, 7> incidents;  // seq, hash, incident_id, check_name, opened, closed, summary
  std::array<PgArray, 4> starts;     // seq, hash, clean_previous_stop, rebooted
  std::array<PgArray, 8> acks;       // seq, hash, incident, at, by, via, note, live
  std::array<PgArray, 6> windows;    // seq, hash, from_at, until_at, reason, by
  // seq, hash, check_name, target, action, reason, attempt, started, finished, outcome,
  // changed, incident
  std::array<PgArray, 12> remedies;
  std::set<std::pair<std::int64_t, std::string>> typed;  // a record repeated: one typed row
  for (const VerifiedRecord& r : records) {
    columns[kSeq].AddInt(r.seq);
    columns[kType].AddText(r.type);
    columns[kT].AddText(r.t);
    columns[kPrev].AddText(r.prev);
    columns[kHash].AddText(r.hash);
    columns[kPayload].AddText(r.payload);
    columns[kJws].AddText(r.jws);
    if (!typed.emplace(r.seq, r.hash).second) continue;
    const auto key = [&](auto& table) {
      table[0].AddInt(r.seq);
      table[1].AddText(r.hash);
    };
    std::visit(
        [&](const auto& body) {
          using Body = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<Body, protocol::Heartbeat>) {
            key(beats);
            beats[2].AddInt(body.minute);
            beats[3].AddBool(body.up);
            beats[4].AddText(protocol::EncodeCheckStates(body.checks));
            beats[5].AddBool(body.ntp_synced);
          } else if constexpr (std::is_same_v<Body, protocol::TaskRun>) {
            key(tasks);
            tasks[2].AddText(body.job);
            tasks[3].AddText(body.name);
            tasks[4].AddInt(body.run_at);
            tasks[5].AddBool(body.ok);
            if (body.error) {
              tasks[6].AddText(*body.error);
            } else {
              tasks[6].AddNull();
            }
          } else if constexpr (std::is_same_v<Body, protocol::Incident>) {
            key(incidents);
            incidents[2].AddInt(body.id);
            incidents[3].AddText(body.check);
            incidents[4].AddInt(body.opened);
            if (body.closed) {
              incidents[5].AddInt(*body.closed);
            } else {
              incidents[5].AddNull();
            }
            incidents[6].AddText(body.summary);
          } else if constexpr (std::is_same_v<Body, protocol::AgentStart>) {
            key(starts);
            starts[2].AddBool(body.clean_previous_stop);
            starts[3].AddBool(body.rebooted);
          } else if constexpr (std::is_same_v<Body, protocol::Ack>) {
            key(acks);
            acks[2].AddInt(body.incident);
            acks[3].AddInt(body.at);
            acks[4].AddText(body.by);
            acks[5].AddText(protocol::AckViaName(body.via));
            if (body.note) {
              acks[6].AddText(*body.note);
            } else {
              acks[6].AddNull();
            }
            acks[7].AddBool(ArrivedLive(body.at, received_at));
          } else if constexpr (std::is_same_v<Body, protocol::Maintenance>) {
            key(windows);
            windows[2].AddInt(body.from);
            windows[3].AddInt(body.until);
            windows[4].AddText(body.reason);
            windows[5].AddText(body.by);
          } else if constexpr (std::is_same_v<Body, protocol::Remediation>) {
            key(remedies);
            remedies[2].AddText(body.check);
            remedies[3].AddText(body.target);
            remedies[4].AddText(protocol::RemedyActionName(body.action));
            remedies[5].AddText(body.reason);
            remedies[6].AddInt(body.attempt);
            remedies[7].AddInt(body.started);
            remedies[8].AddInt(body.finished);
            remedies[9].AddText(protocol::RemedyOutcomeName(body.outcome));
            if (body.changed) {
              remedies[10].AddText(*body.changed);
            } else {
              remedies[10].AddNull();
            }
            if (body.incident) {
              remedies[11].AddInt(*body.incident);
            } else {
              remedies[11].AddNull();
            }
          }
        },
        r.decoded.body);
  }
  PgParams params = {records.front().node, std::to_string(records.front().epoch)};
  for (const auto& column : columns) params.push_back(column.Text());
  params.push_back(std::to_string(received_at));
  for (const auto& column : beats) params.push_back(column.Text());
  for (const auto& column : tasks) params.push_back(column.Text());
  for (const auto& column : incidents) params.push_back(column.Text());
  for (const auto& column : starts) params.push_back(column.Text());
  for (const auto& column : acks) params.push_back(column.Text());
  for (const auto& column : windows) params.push_back(column.Text());
  for (const auto& column : remedies) params.push_back(column.Text());
  return params;
}

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
                                     const protocol::Record& record, std::int64_t received_at) {
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
        } else if constexpr (std::is_same_v<Body, protocol::Ack>) {
          return insert(4, {std::to_string(body.incident), std::to_string(body.at), body.by,
                            std::string(protocol::AckViaName(body.via)), body.note.value_or(""),
                            Bool(body.note.has_value()), std::to_string(received_at),
                            Bool(ArrivedLive(body.at, received_at))});
        } else if constexpr (std::is_same_v<Body, protocol::Maintenance>) {
          return insert(
              5, {std::to_string(body.from), std::to_string(body.until), body.reason, body.by});
        } else if constexpr (std::is_same_v<Body, protocol::Remediation>) {
          return insert(
              6, {body.check, body.target, std::string(protocol::RemedyActionName(body.action)),
                  body.reason, std::to_string(body.attempt), std::to_string(body.started),
                  std::to_string(body.finished),
                  std::string(protocol::RemedyOutcomeName(body.outcome)), body.changed.value_or(""),
                  Bool(body.changed.has_value()),
                  body.incident ? std::to_string(*body.incident) : std::string()});
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
