#include "receiver/store/sqlite_report_source.h"

#include <sys/stat.h>

#include "base/utc_time.h"

namespace fleet::receiver {
namespace {

constexpr const char* kRegistrySchema = R"sql(
CREATE TABLE IF NOT EXISTS operators (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS referrals (
  partner TEXT NOT NULL, referred TEXT NOT NULL, date INTEGER NOT NULL,
  PRIMARY KEY (partner, referred));
)sql";

// Record times are RFC 3339 UTC text ("2026-11-25T13:00:00Z"), which sort as times do.
std::string Text(std::int64_t t) { return FormatUtc(t); }

std::optional<std::int64_t> UnixOf(const std::string& text) { return ParseRfc3339(text); }

}  // namespace

Result<std::unique_ptr<SqliteReportSource>> SqliteReportSource::Open(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Error{path + ": no such database"};
  auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadWrite);
  if (!db) return Error{db.error()};
  if (auto done = (*db)->Exec(kRegistrySchema); !done) return Error{path + ": " + done.error()};
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
  // A heartbeat is made just after its minute; queued ones later. Look a day around.
  auto stmt = db_->Prepare(
      "SELECT json_extract(payload, '$.minute'), json_extract(payload, '$.up'), received_at "
      "FROM records r WHERE node = ? AND type = 'heartbeat' AND t >= ? AND t < ?"
      " AND EXISTS (SELECT 1 FROM watermarks w WHERE w.node = r.node AND w.epoch = r.epoch "
      "AND r.seq <= w.ack_seq) ORDER BY r.epoch, r.seq");
  if (!stmt) return Error{stmt.error()};
  const std::string from = Text(begin - 86400), to = Text(end + 86400);
  (*stmt)
      ->Bind(1, std::string_view(node))
      .Bind(2, std::string_view(from))
      .Bind(3, std::string_view(to));
  for (;;) {
    auto next = (*stmt)->Step();
    if (!next) return Error{next.error()};
    if (!*next) break;
    auto minute = UnixOf((*stmt)->Text(0));
    if (!minute || *minute < begin || *minute >= end) continue;
    row({*minute, (*stmt)->Int(1) != 0, (*stmt)->Int(2)});
  }
  return Success();
}

Outcome SqliteReportSource::ForEachTask(const std::string& node, std::int64_t begin,
                                        std::int64_t end,
                                        const std::function<void(const TaskRow&)>& row) {
  auto stmt = db_->Prepare(
      "SELECT json_extract(payload, '$.job'), json_extract(payload, '$.run_at'), "
      "json_extract(payload, '$.ok') FROM records r WHERE node = ? AND type = 'task' AND t >= ?"
      " AND EXISTS (SELECT 1 FROM watermarks w WHERE w.node = r.node AND w.epoch = r.epoch "
      "AND r.seq <= w.ack_seq) ORDER BY r.epoch, r.seq");
  if (!stmt) return Error{stmt.error()};
  const std::string from = Text(begin);
  (*stmt)->Bind(1, std::string_view(node)).Bind(2, std::string_view(from));
  for (;;) {
    auto next = (*stmt)->Step();
    if (!next) return Error{next.error()};
    if (!*next) break;
    auto run_at = UnixOf((*stmt)->Text(1));
    if (!run_at || *run_at < begin || *run_at >= end) continue;
    row({(*stmt)->Text(0), *run_at, (*stmt)->Int(2) != 0});
  }
  return Success();
}

Outcome SqliteReportSource::ForEachIncident(const std::string& node, std::int64_t begin,
                                            std::int64_t end,
                                            const std::function<void(const IncidentRow&)>& row) {
  auto stmt = db_->Prepare(
      "SELECT json_extract(payload, '$.check'), json_extract(payload, '$.opened'), "
      "json_extract(payload, '$.closed'), json_extract(payload, '$.summary') "
      "FROM records r WHERE node = ? AND type = 'incident'"
      " AND EXISTS (SELECT 1 FROM watermarks w WHERE w.node = r.node AND w.epoch = r.epoch "
      "AND r.seq <= w.ack_seq) ORDER BY r.epoch, r.seq");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, std::string_view(node));
  for (;;) {
    auto next = (*stmt)->Step();
    if (!next) return Error{next.error()};
    if (!*next) break;
    auto opened = UnixOf((*stmt)->Text(1));
    if (!opened || *opened >= end) continue;
    IncidentRow incident{(*stmt)->Text(0), *opened, std::nullopt, (*stmt)->Text(3)};
    if (!(*stmt)->IsNull(2)) {
      incident.closed = UnixOf((*stmt)->Text(2));
      if (incident.closed && *incident.closed < begin) continue;
    }
    row(incident);
  }
  return Success();
}

}  // namespace fleet::receiver
