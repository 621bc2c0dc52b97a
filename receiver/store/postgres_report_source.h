// PostgresReportSource: the monthly reports' view of a PostgreSQL receiver database (the
// ReportSource interface) plus the registry's operators and referrals (tables of schema
// migration 2), giving what SqliteReportSource gives on the same records: the same rows in
// the same order (a node's records by epoch, then seq), read from the records' typed
// columns (schema migrations 4 and 5), never from the payload text. Rows stream through a cursor
// (pages of kPageRows) in a read-only transaction per call, so a month of a large fleet
// never sits in memory. One connection; one lost before a call is reconnected.
#pragma once

#include <memory>
#include <string>

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
  Outcome ForEachAck(const std::string& node, std::int64_t begin, std::int64_t end,
                     const std::function<void(const AckRow&)>& row) override;
  Result<std::optional<ReceiverAlerting>> ReceiverAlertingOf(const std::string& node) override;
  Outcome ForEachReceiverAlert(const std::string& node, std::int64_t begin, std::int64_t end,
                               const std::function<void(const ReceiverAlertRow&)>& row) override;

 private:
  explicit PostgresReportSource(std::unique_ptr<PgConnection> db) : db_(std::move(db)) {}
  Outcome EnsureConnected();
  // Runs `sql` through a cursor; `row` gets each fetched row and may fail the whole call.
  Outcome Stream(const std::string& sql, const PgParams& params,
                 const std::function<Outcome(const PgResult&, int)>& row);

  std::unique_ptr<PgConnection> db_;
};

}  // namespace fleet::receiver
