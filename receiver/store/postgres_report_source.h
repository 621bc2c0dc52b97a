// PostgresReportSource: the monthly reports' view of a PostgreSQL receiver database (the
// ReportSource interface) plus the registry's operators and referrals (tables of schema
// migration 2), giving what SqliteReportSource gives on the same records: the same rows in
// the same order (a node's records by epoch, then seq), the same ranges over the records'
// `t` (text in byte order), and payload fields read as SQLite's json_extract reads them (a
// value of another type converted as SQLite converts it). PostgreSQL's JSON operators read
// the fields; the rare payload they could read otherwise (one with a \u escape: \u0000
// makes them fail, an escaped key they match where SQLite does not; or a key name seen
// twice: SQLite takes a repeated key's first value) comes back whole and goes to SQLite's
// json_extract, in memory. Rows stream through a cursor (pages of kPageRows) in a read-only
// transaction per call, so a month of a large fleet never sits in memory. One connection;
// one lost before a call is reconnected.
#pragma once

#include <memory>
#include <string>

#include "base/sqlite_db.h"
#include "receiver/report/report_source.h"
#include "receiver/store/pg_connection.h"

namespace fleet::receiver {

class PostgresReportSource final : public ReportSource {
 public:
  static constexpr int kPageRows = 2000;

  // conninfo: a postgresql:// URI or libpq key=value text. Migrates the schema when it is
  // behind (so a role that may only read works on an up-to-date database).
  static Result<std::unique_ptr<PostgresReportSource>> Open(const std::string& conninfo);

  Outcome AddOperator(const OperatorEntry& entry);  // replaces name and date when it exists
  Outcome AddReferral(const Referral& referral);    // one per (partner, referred)

  Result<Registry> LoadRegistry() override;
  Outcome ForEachHeartbeat(const std::string& node, std::int64_t begin, std::int64_t end,
                           const std::function<void(const HeartbeatRow&)>& row) override;
  Outcome ForEachTask(const std::string& node, std::int64_t begin, std::int64_t end,
                      const std::function<void(const TaskRow&)>& row) override;
  Outcome ForEachIncident(const std::string& node, std::int64_t begin, std::int64_t end,
                          const std::function<void(const IncidentRow&)>& row) override;

 private:
  // A payload field as SqliteStatement gives json_extract's value: IsNull, Int, Text.
  struct Field {
    bool null = true;
    std::int64_t integer = 0;
    std::string text;
  };

  PostgresReportSource(std::unique_ptr<PgConnection> db, std::unique_ptr<SqliteDb> json,
                       std::unique_ptr<SqliteStatement> extract)
      : db_(std::move(db)), json_(std::move(json)), extract_(std::move(extract)) {}
  Outcome EnsureConnected();
  // Runs `sql` through a cursor; `row` gets each fetched row and may fail the whole call.
  Outcome Stream(const std::string& sql, const PgParams& params,
                 const std::function<Outcome(const PgResult&, int)>& row);
  // The fields `keys` of row i of a query made by FieldsQuery.
  Result<std::vector<Field>> Fields(const PgResult& rows, int i, const std::vector<bool>& numeric,
                                    const std::vector<std::string>& keys);
  Result<Field> Extract(const std::string& json, const std::string& path);

  std::unique_ptr<PgConnection> db_;
  std::unique_ptr<SqliteDb> json_;            // in memory: json_extract, the reference
  std::unique_ptr<SqliteStatement> extract_;  // SELECT json_extract(?1, ?2)
};

}  // namespace fleet::receiver
