// SqliteReportSource: the monthly reports' view of a SQLite receiver database (the
// ReportSource interface), plus the parts of the registry only the reports use: operators
// (id, name, start date) and partner referrals, in tables of their own next to the
// store's nodes. Reads the records' typed columns (sqlite_store.h); one connection.
#pragma once

#include <memory>
#include <string>

#include "base/sqlite_db.h"
#include "receiver/report/report_source.h"

namespace fleet::receiver {

class SqliteReportSource final : public ReportSource {
 public:
  // The database must exist (made by `serve` or `nodes add`); the registry tables are
  // created when missing.
  static Result<std::unique_ptr<SqliteReportSource>> Open(const std::string& path);

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
  explicit SqliteReportSource(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace fleet::receiver
