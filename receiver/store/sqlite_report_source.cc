#include "receiver/store/sqlite_report_source.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "receiver/store/alert_schema.h"
#include "receiver/store/sqlite_store.h"

namespace fleet::receiver {
namespace {

constexpr const char* kRegistrySchema = R"sql(
CREATE TABLE IF NOT EXISTS operators (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS referrals (
  partner TEXT NOT NULL, referred TEXT NOT NULL, date INTEGER NOT NULL,
  PRIMARY KEY (partner, referred));
)sql";

// Only chained, acknowledged records: at or below their epoch's watermark (typed row h).
const std::string kAcknowledged =
    " AND EXISTS (SELECT 1 FROM watermarks w WHERE w.node = h.node AND w.epoch = h.epoch "
    "AND h.seq <= w.ack_seq) ORDER BY h.epoch, h.seq";

}  // namespace

Result<std::unique_ptr<SqliteReportSource>> SqliteReportSource::Open(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Error{path + ": no such database"};
  // Opening the store brings an older database's schema up to date (typed tables).
  if (auto store = SqliteStore::Open(path, false); !store) return Error{store.error()};
  auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadWrite);
  if (!db) return Error{db.error()};
  if (auto done = (*db)->Exec(kRegistrySchema); !done) return Error{path + ": " + done.error()};
  // The receiver's alert history (empty when it never alerted).
  if (auto done = (*db)->Exec(kSqliteAlertTables); !done) return Error{path + ": " + done.error()};
  return std::unique_ptr<SqliteReportSource>(new SqliteReportSource(std::move(db).value()));
}

Outcome SqliteReportSource::AddOperator(const OperatorEntry& entry) {
  auto stmt = db_->Prepare(
      "INSERT INTO operators (id, name, since) VALUES (?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET name = excluded.name, since = excluded.since");
  if (!stmt) return Error{stmt.error()};
  return (*stmt)
      ->Bind(1, std::string_view(entry.id))
      .Bind(2, std::string_view(entry.name))
      .Bind(3, entry.since)
      .Run();
}

Outcome SqliteReportSource::AddReferral(const Referral& referral) {
  auto stmt = db_->Prepare(
      "INSERT INTO referrals (partner, referred, date) VALUES (?, ?, ?) "
      "ON CONFLICT (partner, referred) DO UPDATE SET date = excluded.date");
  if (!stmt) return Error{stmt.error()};
  return (*stmt)
      ->Bind(1, std::string_view(referral.partner))
      .Bind(2, std::string_view(referral.referred))
      .Bind(3, referral.date)
      .Run();
}

Result<Registry> SqliteReportSource::LoadRegistry() {
  Registry registry;
  auto ops = db_->Prepare("SELECT id, name, since FROM operators ORDER BY id");
  if (!ops) return Error{ops.error()};
  for (;;) {
    auto row = (*ops)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    registry.operators.push_back({(*ops)->Text(0), (*ops)->Text(1), (*ops)->Int(2)});
  }
  auto nodes = db_->Prepare("SELECT node, operator, added_at, revoked_at FROM nodes ORDER BY node");
  if (!nodes) return Error{nodes.error()};
  for (;;) {
    auto row = (*nodes)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    NodeRegistration node{(*nodes)->Text(0), (*nodes)->Text(1), (*nodes)->Int(2), std::nullopt};
    if (!(*nodes)->IsNull(3)) node.revoked_at = (*nodes)->Int(3);
    registry.nodes.push_back(std::move(node));
  }
  auto refs = db_->Prepare("SELECT partner, referred, date FROM referrals ORDER BY 1, 2");
  if (!refs) return Error{refs.error()};
  for (;;) {
    auto row = (*refs)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    registry.referrals.push_back({(*refs)->Text(0), (*refs)->Text(1), (*refs)->Int(2)});
  }
  return registry;
}

Outcome SqliteReportSource::ForEachHeartbeat(const std::string& node, std::int64_t begin,
                                             std::int64_t end,
                                             const std::function<void(const HeartbeatRow&)>& row) {
  auto stmt = db_->Prepare(
      std::string("SELECT h.minute, h.up, r.received_at FROM heartbeats h JOIN records r ") +
      "ON r.node = h.node AND r.epoch = h.epoch AND r.seq = h.seq "
      "WHERE h.node = ?1 AND h.minute >= ?2 AND h.minute < ?3" +
      kAcknowledged);
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(node)).Bind(2, begin).Bind(3, end);
  for (;;) {
    auto next = (*stmt)->Step();
    if (!next) return Error{next.error()};
    if (!*next) break;
    row({(*stmt)->Int(0), (*stmt)->Int(1) != 0, (*stmt)->Int(2)});
  }
  return Success();
}

Outcome SqliteReportSource::ForEachTask(const std::string& node, std::int64_t begin,
                                        std::int64_t end,
                                        const std::function<void(const TaskRow&)>& row) {
  auto stmt = db_->Prepare(std::string("SELECT job, run_at, ok FROM task_runs h") +
                           " WHERE node = ?1 AND run_at >= ?2 AND run_at < ?3" + kAcknowledged);
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(node)).Bind(2, begin).Bind(3, end);
  for (;;) {
    auto next = (*stmt)->Step();
    if (!next) return Error{next.error()};
    if (!*next) break;
    row({(*stmt)->Text(0), (*stmt)->Int(1), (*stmt)->Int(2) != 0});
  }
  return Success();
}

Outcome SqliteReportSource::ForEachIncident(const std::string& node, std::int64_t begin,
                                            std::int64_t end,
                                            const std::function<void(const IncidentRow&)>& row) {
  auto stmt = db_->Prepare(
      std::string("SELECT check_name, opened, closed, summary, incident_id FROM incidents h ") +
      "WHERE node = ?1 "
      "AND opened < ?3 AND (closed IS NULL OR closed >= ?2)" +
      kAcknowledged);
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(node)).Bind(2, begin).Bind(3, end);
  for (;;) {
    auto next = (*stmt)->Step();
    if (!next) return Error{next.error()};
    if (!*next) break;
    IncidentRow incident{(*stmt)->Text(0), (*stmt)->Int(1), std::nullopt, (*stmt)->Text(3),
                         (*stmt)->Int(4)};
    if (!(*stmt)->IsNull(2)) incident.closed = (*stmt)->Int(2);
    row(incident);
  }
  return Success();
}

Outcome SqliteReportSource::ForEachAck(const std::string& node, std::int64_t begin,
                                       std::int64_t end,
                                       const std::function<void(const AckRow&)>& row) {
  auto stmt = db_->Prepare(
      std::string("SELECT incident, at, by, via, note, received_at, live FROM acks h ") +
      "WHERE node = ?1 AND at >= ?2 AND at < ?3" + kAcknowledged);
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(node)).Bind(2, begin).Bind(3, end);
  for (;;) {
    auto next = (*stmt)->Step();
    if (!next) return Error{next.error()};
    if (!*next) break;
    const SqliteStatement& q = **stmt;
    AckRow ack{q.Int(0), q.Int(1), q.Text(2), q.Text(3), std::nullopt, q.Int(5), q.Int(6) != 0};
    if (!q.IsNull(4)) ack.note = q.Text(4);
    row(ack);
  }
  return Success();
}

Result<std::optional<ReceiverAlerting>> SqliteReportSource::ReceiverAlertingOf(
    const std::string& node) {
  auto stmt = db_->Prepare("SELECT since, seen FROM alert_nodes WHERE node = ?1");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(node));
  auto next = (*stmt)->Step();
  if (!next) return Error{next.error()};
  if (!*next) return std::optional<ReceiverAlerting>();
  return std::optional<ReceiverAlerting>(
      ReceiverAlerting{(*stmt)->Int(0), (*stmt)->Int(1) + kAlertNodeSeenEvery + 60});
}

Outcome SqliteReportSource::ForEachReceiverAlert(
    const std::string& node, std::int64_t begin, std::int64_t end,
    const std::function<void(const ReceiverAlertRow&)>& row) {
  auto stmt = db_->Prepare(
      "SELECT id, checks, incidents, silent, opened, sent, resolved, "
      "CASE WHEN ack_source = 'receiver' THEN acked_at END, acked_by, acked_via "
      "FROM alert_history WHERE node = ?1 AND sent >= ?2 AND sent < ?3 ORDER BY opened, id");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(node)).Bind(2, begin).Bind(3, end);
  for (;;) {
    auto next = (*stmt)->Step();
    if (!next) return Error{next.error()};
    if (!*next) break;
    const SqliteStatement& q = **stmt;
    ReceiverAlertRow alert;
    alert.key = q.Int(0);
    const auto checks = nlohmann::json::parse(q.Text(1), nullptr, false);
    if (checks.is_array()) {
      for (const auto& c : checks) {
        if (c.is_string()) alert.checks.push_back(c.get<std::string>());
      }
    }
    const auto incidents = nlohmann::json::parse(q.Text(2), nullptr, false);
    if (incidents.is_array()) {
      for (const auto& i : incidents) {
        if (i.is_number_integer()) alert.incidents.push_back(i.get<std::int64_t>());
      }
    }
    alert.silent = q.Int(3) != 0;
    alert.opened = q.Int(4);
    alert.sent = q.Int(5);
    if (!q.IsNull(6)) alert.resolved = q.Int(6);
    if (!q.IsNull(7)) {
      alert.acked_at = q.Int(7);
      alert.acked_by = q.Text(8);
      alert.acked_via = q.Text(9);
    }
    row(alert);
  }
  return Success();
}

}  // namespace fleet::receiver
