#include "receiver/store/postgres_report_source.h"

#include <nlohmann/json.hpp>

#include "receiver/store/alert_schema.h"
#include "receiver/store/postgres_schema.h"

namespace fleet::receiver {
namespace {

// Only chained, acknowledged records: at or below their epoch's watermark (typed row h),
// in the order of the records' primary key, as SQLite reads them.
constexpr std::string_view kAcknowledged =
    " AND EXISTS (SELECT 1 FROM watermarks w WHERE w.node = h.node AND w.epoch = h.epoch"
    " AND h.seq <= w.ack_seq) ORDER BY h.epoch, h.seq";

std::string Num(std::int64_t n) { return std::to_string(n); }

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
  return std::unique_ptr<PostgresReportSource>(new PostgresReportSource(std::move(db).value()));
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

Outcome PostgresReportSource::ForEachHeartbeat(
    const std::string& node, std::int64_t begin, std::int64_t end,
    const std::function<void(const HeartbeatRow&)>& row) {
  static const std::string kSql =
      "SELECT h.minute, h.up, r.received_at FROM heartbeats h JOIN records r "
      "ON r.node = h.node AND r.epoch = h.epoch AND r.seq = h.seq "
      "WHERE h.node = $1 AND h.minute >= $2 AND h.minute < $3" +
      std::string(kAcknowledged);
  return Stream(kSql, {node, Num(begin), Num(end)}, [&](const PgResult& rows, int i) -> Outcome {
    row({rows.Int(i, 0), rows.Text(i, 1) == "t", rows.Int(i, 2)});
    return Success();
  });
}

Outcome PostgresReportSource::ForEachTask(const std::string& node, std::int64_t begin,
                                          std::int64_t end,
                                          const std::function<void(const TaskRow&)>& row) {
  static const std::string kSql =
      "SELECT h.job, h.run_at, h.ok FROM task_runs h "
      "WHERE h.node = $1 AND h.run_at >= $2 AND h.run_at < $3" +
      std::string(kAcknowledged);
  return Stream(kSql, {node, Num(begin), Num(end)}, [&](const PgResult& rows, int i) -> Outcome {
    row({rows.Text(i, 0), rows.Int(i, 1), rows.Text(i, 2) == "t"});
    return Success();
  });
}

Outcome PostgresReportSource::ForEachIncident(const std::string& node, std::int64_t begin,
                                              std::int64_t end,
                                              const std::function<void(const IncidentRow&)>& row) {
  static const std::string kSql =
      "SELECT h.check_name, h.opened, h.closed, h.summary, h.incident_id FROM incidents h "
      "WHERE h.node = $1 AND h.opened < $3 AND (h.closed IS NULL OR h.closed >= $2)" +
      std::string(kAcknowledged);
  return Stream(kSql, {node, Num(begin), Num(end)}, [&](const PgResult& rows, int i) -> Outcome {
    IncidentRow incident{rows.Text(i, 0), rows.Int(i, 1), std::nullopt, rows.Text(i, 3),
                         rows.Int(i, 4)};
    if (!rows.IsNull(i, 2)) incident.closed = rows.Int(i, 2);
    row(incident);
    return Success();
  });
}

Outcome PostgresReportSource::ForEachAck(const std::string& node, std::int64_t begin,
                                         std::int64_t end,
                                         const std::function<void(const AckRow&)>& row) {
  static const std::string kSql =
      "SELECT h.incident, h.at, h.by, h.via, h.note, h.received_at, h.live FROM acks h "
      "WHERE h.node = $1 AND h.at >= $2 AND h.at < $3" +
      std::string(kAcknowledged);
  return Stream(kSql, {node, Num(begin), Num(end)}, [&](const PgResult& rows, int i) -> Outcome {
    AckRow ack{rows.Int(i, 0), rows.Int(i, 1), rows.Text(i, 2),       rows.Text(i, 3),
               std::nullopt,   rows.Int(i, 5), rows.Text(i, 6) == "t"};
    if (!rows.IsNull(i, 4)) ack.note = rows.Text(i, 4);
    row(ack);
    return Success();
  });
}

Result<std::optional<ReceiverAlerting>> PostgresReportSource::ReceiverAlertingOf(
    const std::string& node) {
  if (auto connected = EnsureConnected(); !connected) return Error{connected.error()};
  auto rows = db_->Exec("SELECT since, seen FROM alert_nodes WHERE node = $1", {node});
  if (!rows) return Error{rows.error()};
  if (rows->Rows() == 0) return std::optional<ReceiverAlerting>();
  return std::optional<ReceiverAlerting>(
      ReceiverAlerting{rows->Int(0, 0), rows->Int(0, 1) + kAlertNodeSeenEvery + 60});
}

Outcome PostgresReportSource::ForEachReceiverAlert(
    const std::string& node, std::int64_t begin, std::int64_t end,
    const std::function<void(const ReceiverAlertRow&)>& row) {
  static const std::string kSql =
      "SELECT id, checks, incidents, silent, opened, sent, resolved, "
      "CASE WHEN ack_source = 'receiver' THEN acked_at END, acked_by, acked_via "
      "FROM alert_history WHERE node = $1 AND sent >= $2 AND sent < $3 ORDER BY opened, id";
  return Stream(kSql, {node, Num(begin), Num(end)}, [&](const PgResult& rows, int i) -> Outcome {
    ReceiverAlertRow alert;
    alert.key = rows.Int(i, 0);
    const auto checks = nlohmann::json::parse(rows.Text(i, 1), nullptr, false);
    if (checks.is_array()) {
      for (const auto& c : checks) {
        if (c.is_string()) alert.checks.push_back(c.get<std::string>());
      }
    }
    const auto incidents = nlohmann::json::parse(rows.Text(i, 2), nullptr, false);
    if (incidents.is_array()) {
      for (const auto& n : incidents) {
        if (n.is_number_integer()) alert.incidents.push_back(n.get<std::int64_t>());
      }
    }
    alert.silent = rows.Int(i, 3) != 0;
    alert.opened = rows.Int(i, 4);
    alert.sent = rows.Int(i, 5);
    if (!rows.IsNull(i, 6)) alert.resolved = rows.Int(i, 6);
    if (!rows.IsNull(i, 7)) {
      alert.acked_at = rows.Int(i, 7);
      alert.acked_by = rows.Text(i, 8);
      alert.acked_via = rows.Text(i, 9);
    }
    row(alert);
    return Success();
  });
}

}  // namespace fleet::receiver
