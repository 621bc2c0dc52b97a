// dashboard-bench: the server time of the dashboard's fleet page (GET / through Dashboard,
// fleet_page.h) for a large fleet: OPERATORS x NODES_PER_OPERATOR nodes (default 100 x 10 =
// 1,000) in a fresh SQLite database, each with a heartbeat for every minute of the month so far
// (DAYS days, default 7, from the 1st of 2026-11; "now" is the end of that span), written
// straight into the store's tables (records, heartbeats, watermarks: what the reports read;
// the payload and JWS columns hold placeholders, since nothing here verifies them). Then RENDERS
// renders (default 10, after one cold render that opens the database and fills the fleet page's
// cache of settled hours: fleet_page.h) as the admin, printing the cold render's time, each
// one's time and the median and p95 against the 200 ms target, and the same for /v1/fleet.
// "Now" is 30 s past midnight, so each render reads the last hour (60 minutes) afresh; at
// worst (9 min past an hour) it is 70.
//   dashboard-bench [--operators 100] [--per-operator 10] [--days 7] [--renders 10] [--db PATH]
// With --db naming an existing file the data is reused (no generation). Nothing is asserted.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/utc_time.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/sqlite_store.h"
#include "receiver/web/dashboard.h"

namespace {

using namespace fleet;
using namespace fleet::receiver;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

bool Exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s: %s\n", sql, message ? message : "?");
    sqlite3_free(message);
    return false;
  }
  return true;
}

// The registry through the store's own code, the heartbeats with prepared statements.
bool Generate(const std::string& path, int operators, int per_operator, std::int64_t begin,
              std::int64_t end) {
  {
    auto store = SqliteStore::Open(path, true);
    if (!store) {
      std::fprintf(stderr, "%s\n", store.error().c_str());
      return false;
    }
    for (int n = 0; n < operators * per_operator; ++n) {
      char node[32], op[32];
      std::snprintf(node, sizeof node, "node-%04d", n);
      std::snprintf(op, sizeof op, "op-%03d", n / per_operator);
      NodeEntry entry{node,         op, std::string("kid-") + node, PublicKey{}, begin - 86400,
                      std::nullopt, ""};
      entry.key[0] = static_cast<unsigned char>(n & 0xff);
      entry.key[1] = static_cast<unsigned char>(n >> 8);
      if (auto added = (*store)->AddNode(entry); !added) {
        std::fprintf(stderr, "%s\n", added.error().c_str());
        return false;
      }
    }
  }
  {
    auto source = OpenReportSource(path);
    if (!source) return false;
    for (int o = 0; o < operators; ++o) {
      char op[32];
      std::snprintf(op, sizeof op, "op-%03d", o);
      if (!(*source)->AddOperator({op, std::string("Operator ") + op, begin - 400 * 86400})) {
        return false;
      }
    }
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return false;
  Exec(db, "PRAGMA journal_mode=WAL");
  Exec(db, "PRAGMA synchronous=OFF");
  Exec(db, "BEGIN");
  sqlite3_stmt* record = nullptr;
  sqlite3_stmt* beat = nullptr;
  sqlite3_stmt* mark = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO records (node, epoch, seq, type, t, prev, hash, payload, jws, "
                     "received_at) VALUES (?1, 1, ?2, 'heartbeat', ?3, 'p', ?4, '{}', 'j', ?5)",
                     -1, &record, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT INTO heartbeats (node, epoch, seq, minute, up, checks, ntp_synced) "
                     "VALUES (?1, 1, ?2, ?3, ?4, '{}', 1)",
                     -1, &beat, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT INTO watermarks (node, epoch, ack_seq, ack_hash) VALUES (?1, 1, ?2, "
                     "'h')",
                     -1, &mark, nullptr);
  const auto started = Clock::now();
  std::int64_t rows = 0;
  for (int n = 0; n < operators * per_operator; ++n) {
    char node[32];
    std::snprintf(node, sizeof node, "node-%04d", n);
    std::int64_t seq = 0;
    for (std::int64_t minute = begin; minute < end; minute += 60) {
      ++seq;
      // One node in 50 has a down minute every 1000 minutes: a figure, not all 100%.
      const bool up = !(n % 50 == 0 && seq % 1000 == 0);
      const std::string t = FormatUtc(minute + 60);
      const std::string hash = std::to_string(seq);
      sqlite3_bind_text(record, 1, node, -1, SQLITE_STATIC);
      sqlite3_bind_int64(record, 2, seq);
      sqlite3_bind_text(record, 3, t.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(record, 4, hash.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(record, 5, minute + 62);
      sqlite3_bind_text(beat, 1, node, -1, SQLITE_STATIC);
      sqlite3_bind_int64(beat, 2, seq);
      sqlite3_bind_int64(beat, 3, minute);
      sqlite3_bind_int64(beat, 4, up ? 1 : 0);
      if (sqlite3_step(record) != SQLITE_DONE || sqlite3_step(beat) != SQLITE_DONE) {
        std::fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
        return false;
      }
      sqlite3_reset(record);
      sqlite3_reset(beat);
      rows += 1;
    }
    sqlite3_bind_text(mark, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(mark, 2, seq);
    sqlite3_step(mark);
    sqlite3_reset(mark);
  }
  sqlite3_finalize(record);
  sqlite3_finalize(beat);
  sqlite3_finalize(mark);
  const bool committed = Exec(db, "COMMIT");
  Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  Exec(db, "ANALYZE");
  sqlite3_close(db);
  std::printf("generated %lld heartbeats in %.1f s\n", static_cast<long long>(rows),
              Ms(Clock::now() - started) / 1000.0);
  return committed;
}

struct Figures {
  double first = 0;  // the warm-up: opens the database and, for the fleet, fills its cache
  double median = 0, p95 = 0;
  std::size_t bytes = 0;
  int status = 0;
};

Figures Time(Dashboard& dashboard, const std::string& path, int renders, bool print) {
  HttpRequest request;
  request.method = "GET";
  request.path = path;
  request.authorization = "Bearer admin";
  std::vector<double> times;
  Figures out;
  for (int i = 0; i <= renders; ++i) {  // the first is a warm-up
    const auto started = Clock::now();
    HttpResponse response;
    dashboard.Handle(request, [&response](HttpResponse r) { response = std::move(r); });
    const double ms = Ms(Clock::now() - started);
    out.status = response.status;
    out.bytes = response.body.size();
    if (i == 0) {
      out.first = ms;
      continue;
    }
    times.push_back(ms);
    if (print) std::printf("  %s render %d: %.1f ms\n", path.c_str(), i, ms);
  }
  std::sort(times.begin(), times.end());
  out.median = times.size() % 2 ? times[times.size() / 2]
                                : (times[times.size() / 2 - 1] + times[times.size() / 2]) / 2;
  out.p95 = times[std::min(times.size() - 1,
                           static_cast<std::size_t>(0.95 * static_cast<double>(times.size())))];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int operators = 100, per_operator = 10, days = 7, renders = 10;
  std::string db;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--operators")
      operators = std::atoi(value.c_str());
    else if (flag == "--per-operator")
      per_operator = std::atoi(value.c_str());
    else if (flag == "--days")
      days = std::atoi(value.c_str());
    else if (flag == "--renders")
      renders = std::atoi(value.c_str());
    else if (flag == "--db")
      db = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (operators < 1 || per_operator < 1 || days < 1 || days > 28 || renders < 1) return 2;
  const std::int64_t begin = *ParseUtcSeconds("2026-11-01T00:00:00Z");
  const std::int64_t end = begin + days * 86400LL;
  std::optional<std::filesystem::path> made;
  if (db.empty()) {
    made =
        std::filesystem::temp_directory_path() / ("dashboard-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(*made);
    db = (*made / "receiver.db").string();
  }
  if (!std::filesystem::exists(db) && !Generate(db, operators, per_operator, begin, end)) {
    return 1;
  }
  DashboardAccess access;
  access.viewer_of = [](const HttpRequest&) -> std::optional<Viewer> {
    return Viewer{std::nullopt, "t-bench"};
  };
  Dashboard dashboard(
      db, access, [end] { return end + 30; }, 180, PayoutPolicy{},
      [](HttpRequest, HttpRespond respond) { respond(JsonError(404, "not found")); });
  std::printf("fleet of %d nodes (%d operators x %d), %d days of minutes, now %s\n",
              operators * per_operator, operators, per_operator, days, FormatUtc(end + 30).c_str());
  const Figures page = Time(dashboard, "/", renders, true);
  const Figures json = Time(dashboard, "/v1/fleet", renders, false);
  std::printf(
      "GET /        status %d, %zu bytes: first (cold) %.1f ms; then median %.1f ms, p95 "
      "%.1f ms (%d renders; target 200 ms: %s)\n",
      page.status, page.bytes, page.first, page.median, page.p95, renders,
      page.p95 < 200 ? "met" : "NOT met");
  std::printf(
      "GET /v1/fleet status %d, %zu bytes: first %.1f ms; then median %.1f ms, p95 %.1f "
      "ms\n",
      json.status, json.bytes, json.first, json.median, json.p95);
  if (made) std::filesystem::remove_all(*made);
  return 0;
}
