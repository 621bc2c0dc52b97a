#include "receiver/store/postgres_report_source.h"

#include <nlohmann/json.hpp>

#include "base/utc_time.h"
#include "receiver/store/postgres_schema.h"

namespace fleet::receiver {
namespace {

// Record times are RFC 3339 UTC text ("2026-11-25T13:00:00Z"), which sort as times do
// in byte order (COLLATE "C", as SQLite compares them), whatever the database's collation.
std::string Text(std::int64_t t) { return FormatUtc(t); }

std::optional<std::int64_t> UnixOf(const std::string& text) { return ParseRfc3339(text); }

// SELECT the values of the top-level keys `keys` of a record's payload as raw JSON text
// (NULL when absent), then the payload itself when PostgreSQL might read it otherwise than
// json_extract(payload, '$.key') does, then `more` (optional). PostgreSQL reads it when it
// has no \u escape (no \u0000, no escaped key) and each key's quoted name appears at most
// once in it (so a repeated key, whose first value SQLite takes and PostgreSQL the last, is
// left to SQLite). Only chained, acknowledged records (at or below the watermark of their
// epoch). A node's records in the order of its primary key, as SQLite reads them.
std::string FieldsQuery(const std::vector<std::string>& keys, const std::string& more,
                        const std::string& where) {
  std::string plain = "strpos(r.payload, E'\\\\u') = 0";
  for (const auto& key : keys) {
    const std::string quoted = "'\"" + key + "\"'";
    plain +=
        " AND strpos(substr(r.payload, strpos(r.payload, " + quoted + ") + 1), " + quoted + ") = 0";
  }
  std::string sql = "SELECT ";
  for (const auto& key : keys) {
    sql += "CASE WHEN g.plain THEN (r.payload::json -> '" + key + "')::text END, ";
  }
  sql += "CASE WHEN NOT g.plain THEN r.payload END" + (more.empty() ? "" : ", " + more) +
         " FROM records r CROSS JOIN LATERAL (SELECT " + plain + " AS plain) AS g WHERE " + where +
         " AND EXISTS (SELECT 1 FROM watermarks w WHERE w.node = r.node AND w.epoch = r.epoch"
         " AND r.seq <= w.ack_seq) ORDER BY r.epoch, r.seq";
  return sql;
}

}  // namespace

Result<std::unique_ptr<PostgresReportSource>> PostgresReportSource::Open(
    const std::string& conninfo) {
  auto db = PgConnection::Connect(conninfo);
  if (!db) return Error{db.error()};
  auto current = (*db)->Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current || current->Int(0, 0) != PostgresMigrations().back().version) {
    if ((*db)->Broken()) return Error{current.error()};
    if (auto version = ApplyMigrations(**db); !version) return Error{version.error()};
  }
  auto json = SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWrite);
  if (!json) return Error{json.error()};
  auto extract = (*json)->Prepare("SELECT json_extract(?1, ?2)");
  if (!extract) return Error{"sqlite json_extract: " + extract.error()};
  return std::unique_ptr<PostgresReportSource>(new PostgresReportSource(
      std::move(db).value(), std::move(json).value(), std::move(extract).value()));
}

Outcome PostgresReportSource::EnsureConnected() {
  if (!db_->Broken()) return Success();
  return db_->Reset();
}

Outcome PostgresReportSource::AddOperator(const OperatorEntry& entry) {
  if (auto connected = EnsureConnected(); !connected) return connected;
  auto done = db_->Exec(
      "INSERT INTO operators (id, name, since) VALUES ($1, $2, $3) "
      "ON CONFLICT (id) DO UPDATE SET name = excluded.name, since = excluded.since",
      {entry.id, entry.name, std::to_string(entry.since)});
  if (!done) return Error{done.error()};
  return Success();
}

Outcome PostgresReportSource::AddReferral(const Referral& referral) {
  if (auto connected = EnsureConnected(); !connected) return connected;
  auto done = db_->Exec(
      "INSERT INTO referrals (partner, referred, date) VALUES ($1, $2, $3) "
      "ON CONFLICT (partner, referred) DO UPDATE SET date = excluded.date",
      {referral.partner, referral.referred, std::to_string(referral.date)});
  if (!done) return Error{done.error()};
  return Success();
}

Result<Registry> PostgresReportSource::LoadRegistry() {
  if (auto connected = EnsureConnected(); !connected) return Error{connected.error()};
  Registry registry;
  auto ops = db_->Exec("SELECT id, name, since FROM operators ORDER BY id COLLATE \"C\"");
  if (!ops) return Error{ops.error()};
  for (int i = 0; i < ops->Rows(); ++i) {
    registry.operators.push_back({ops->Text(i, 0), ops->Text(i, 1), ops->Int(i, 2)});
  }
  auto nodes = db_->Exec(
      "SELECT node, operator, added_at, revoked_at FROM nodes ORDER BY node COLLATE \"C\"");
  if (!nodes) return Error{nodes.error()};
  for (int i = 0; i < nodes->Rows(); ++i) {
    NodeRegistration node{nodes->Text(i, 0), nodes->Text(i, 1), nodes->Int(i, 2), std::nullopt};
    if (!nodes->IsNull(i, 3)) node.revoked_at = nodes->Int(i, 3);
    registry.nodes.push_back(std::move(node));
  }
  auto refs = db_->Exec(
      "SELECT partner, referred, date FROM referrals "
      "ORDER BY partner COLLATE \"C\", referred COLLATE \"C\"");
  if (!refs) return Error{refs.error()};
  for (int i = 0; i < refs->Rows(); ++i) {
    registry.referrals.push_back({refs->Text(i, 0), refs->Text(i, 1), refs->Int(i, 2)});
  }
  return registry;
}

Outcome PostgresReportSource::Stream(const std::string& sql, const PgParams& params,
                                     const std::function<Outcome(const PgResult&, int)>& row) {
  if (auto connected = EnsureConnected(); !connected) return connected;
  auto fail = [&](const std::string& message) -> Outcome {
    if (!db_->Broken()) (void)db_->Exec("ROLLBACK");
    return Error{message};
  };
  if (auto begun = db_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !begun) {
    return Error{begun.error()};
  }
  if (auto declared = db_->Exec("DECLARE fleet_report NO SCROLL CURSOR FOR " + sql, params);
      !declared) {
    return fail(declared.error());
  }
  const std::string fetch = "FETCH " + std::to_string(kPageRows) + " FROM fleet_report";
  for (;;) {
    auto page = db_->Exec(fetch);
    if (!page) return fail(page.error());
    for (int i = 0; i < page->Rows(); ++i) {
      if (auto done = row(*page, i); !done) return fail(done.error());
    }
    if (page->Rows() < kPageRows) break;
  }
  if (auto committed = db_->Exec("COMMIT"); !committed) return Error{committed.error()};
  return Success();
}

Result<PostgresReportSource::Field> PostgresReportSource::Extract(const std::string& json,
                                                                  const std::string& path) {
  extract_->Reset();
  extract_->Bind(1, std::string_view(json)).Bind(2, std::string_view(path));
  auto stepped = extract_->Step();
  if (!stepped || !*stepped) {
    extract_->Reset();
    return Error{"sqlite json_extract: " + (stepped ? std::string("no row") : stepped.error())};
  }
  Field field{extract_->IsNull(0), extract_->Int(0), extract_->Text(0)};
  extract_->Reset();
  return field;
}

// The keys' values of row i: PostgreSQL's raw JSON text when it read the payload (the common
// cases here, the rest through json_extract(value, '$')), else json_extract on the payload.
// numeric[k]: whether key k is read as a number (Int), else as text.
Result<std::vector<PostgresReportSource::Field>> PostgresReportSource::Fields(
    const PgResult& rows, int i, const std::vector<bool>& numeric,
    const std::vector<std::string>& keys) {
  const int payload_column = static_cast<int>(keys.size());
  std::vector<Field> fields;
  fields.reserve(keys.size());
  for (int k = 0; k < payload_column; ++k) {
    if (!rows.IsNull(i, payload_column)) {
      auto field = Extract(rows.Text(i, payload_column), "$." + keys[k]);
      if (!field) return Error{field.error()};
      fields.push_back(std::move(field).value());
      continue;
    }
    if (rows.IsNull(i, k)) {  // no such key
      fields.emplace_back();
      continue;
    }
    std::string raw = rows.Text(i, k);
    if (raw.empty() || raw == "null") {
      fields.emplace_back();
    } else if (raw == "true" || raw == "false") {
      const bool yes = raw == "true";
      fields.push_back({false, yes ? 1 : 0, yes ? "1" : "0"});
    } else if (!numeric[k] && raw.size() >= 2 && raw.front() == '"' &&
               raw.find('\\') == std::string::npos) {
      fields.push_back({false, 0, raw.substr(1, raw.size() - 2)});
    } else if (!numeric[k] && raw.front() == '"') {  // escapes (\n, \", ...; no \u here)
      auto text = nlohmann::json::parse(raw, nullptr, false);
      if (!text.is_string()) return Error{"postgresql: a payload string cannot be read"};
      fields.push_back({false, 0, text.get<std::string>()});
    } else {  // a number, object or array; a string read as a number
      auto field = Extract(raw, "$");
      if (!field) return Error{field.error()};
      fields.push_back(std::move(field).value());
    }
  }
  return fields;
}

Outcome PostgresReportSource::ForEachHeartbeat(
    const std::string& node, std::int64_t begin, std::int64_t end,
    const std::function<void(const HeartbeatRow&)>& row) {
  // A heartbeat is made just after its minute; queued ones later. Look a day around.
  static const std::vector<std::string> kKeys = {"minute", "up"};
  static const std::vector<bool> kNumeric = {false, true};
  static const std::string kSql =
      FieldsQuery(kKeys, "r.received_at",
                  "r.node = $1 AND r.type = 'heartbeat' AND r.t COLLATE \"C\" >= $2 "
                  "AND r.t COLLATE \"C\" < $3");
  return Stream(kSql, {node, Text(begin - 86400), Text(end + 86400)},
                [&](const PgResult& rows, int i) -> Outcome {
                  auto f = Fields(rows, i, kNumeric, kKeys);
                  if (!f) return Error{f.error()};
                  auto minute = UnixOf((*f)[0].text);
                  if (!minute || *minute < begin || *minute >= end) return Success();
                  row({*minute, (*f)[1].integer != 0, rows.Int(i, 3)});
                  return Success();
                });
}

Outcome PostgresReportSource::ForEachTask(const std::string& node, std::int64_t begin,
                                          std::int64_t end,
                                          const std::function<void(const TaskRow&)>& row) {
  static const std::vector<std::string> kKeys = {"job", "run_at", "ok"};
  static const std::vector<bool> kNumeric = {false, false, true};
  static const std::string kSql =
      FieldsQuery(kKeys, "", "r.node = $1 AND r.type = 'task' AND r.t COLLATE \"C\" >= $2");
  return Stream(kSql, {node, Text(begin)}, [&](const PgResult& rows, int i) -> Outcome {
    auto f = Fields(rows, i, kNumeric, kKeys);
    if (!f) return Error{f.error()};
    auto run_at = UnixOf((*f)[1].text);
    if (!run_at || *run_at < begin || *run_at >= end) return Success();
    row({(*f)[0].text, *run_at, (*f)[2].integer != 0});
    return Success();
  });
}

Outcome PostgresReportSource::ForEachIncident(const std::string& node, std::int64_t begin,
                                              std::int64_t end,
                                              const std::function<void(const IncidentRow&)>& row) {
  static const std::vector<std::string> kKeys = {"check", "opened", "closed", "summary"};
  static const std::vector<bool> kNumeric = {false, false, false, false};
  static const std::string kSql = FieldsQuery(kKeys, "", "r.node = $1 AND r.type = 'incident'");
  return Stream(kSql, {node}, [&](const PgResult& rows, int i) -> Outcome {
    auto f = Fields(rows, i, kNumeric, kKeys);
    if (!f) return Error{f.error()};
    auto opened = UnixOf((*f)[1].text);
    if (!opened || *opened >= end) return Success();
    IncidentRow incident{(*f)[0].text, *opened, std::nullopt, (*f)[3].text};
    if (!(*f)[2].null) {
      incident.closed = UnixOf((*f)[2].text);
      if (incident.closed && *incident.closed < begin) return Success();
    }
    row(incident);
    return Success();
  });
}

}  // namespace fleet::receiver
