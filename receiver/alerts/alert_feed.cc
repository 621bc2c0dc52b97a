#include "receiver/alerts/alert_feed.h"

#include <algorithm>

namespace fleet::receiver {
namespace {

// The ranges to read: each (node, epoch) past its cursor, at most $1 seqs of it.
constexpr const char* kRanges =
    "WITH r AS (SELECT w.node, w.epoch, COALESCE(c.seq, 0) AS after, "
    "CASE WHEN w.ack_seq < COALESCE(c.seq, 0) + CAST($1 AS BIGINT) THEN w.ack_seq "
    "ELSE COALESCE(c.seq, 0) + CAST($1 AS BIGINT) END AS upto, w.ack_seq "
    "FROM watermarks w LEFT JOIN alert_cursors c ON c.node = w.node AND c.epoch = w.epoch "
    "WHERE w.ack_seq > COALESCE(c.seq, 0)) ";

std::string WithRanges(const std::string& select) { return kRanges + select; }

constexpr std::size_t kCursorsPerStatement = 200;

}  // namespace

Result<FeedRead> AlertFeed::Read(std::int64_t chunk, std::int64_t live_within_s) {
  if (auto begun = link_.BeginRead(); !begun) return Error{"reading the records: " + begun.error()};
  auto read = ReadInSnapshot(chunk, live_within_s);
  link_.Rollback();  // read-only: nothing to keep
  return read;
}

Result<FeedRead> AlertFeed::ReadInSnapshot(std::int64_t chunk, std::int64_t live_within_s) {
  FeedRead read;
  auto ranges = link_.Run(
      WithRanges("SELECT node, epoch, after, upto, ack_seq FROM r ORDER BY node, epoch"), {chunk});
  if (!ranges) return Error{"reading the watermarks: " + ranges.error()};
  for (int i = 0; i < ranges->size(); ++i) {
    read.ranges.push_back({ranges->Text(i, 0), ranges->Int(i, 1), ranges->Int(i, 2),
                           ranges->Int(i, 3), ranges->Int(i, 4) > ranges->Int(i, 3)});
  }
  if (read.ranges.empty()) return read;

  auto incidents = link_.Run(
      WithRanges("SELECT i.node, i.epoch, i.seq, x.received_at, i.incident_id, i.check_name, "
                 "i.opened, i.closed, i.summary FROM r JOIN incidents i ON i.node = r.node "
                 "AND i.epoch = r.epoch AND i.seq > r.after AND i.seq <= r.upto "
                 "JOIN records x ON x.node = i.node AND x.epoch = i.epoch AND x.seq = i.seq"),
      {chunk});
  if (!incidents) return Error{"reading incidents: " + incidents.error()};
  for (int i = 0; i < incidents->size(); ++i) {
    FeedEvent e;
    e.kind = FeedEvent::Kind::kIncident;
    e.seq = incidents->Int(i, 2);
    e.received_at = incidents->Int(i, 3);
    e.incident = incidents->Int(i, 4);
    e.check = incidents->Text(i, 5);
    e.opened = incidents->Int(i, 6);
    e.closed = incidents->IntOr(i, 7);
    e.summary = incidents->Text(i, 8);
    read.events[{incidents->Text(i, 0), incidents->Int(i, 1)}].push_back(std::move(e));
  }
  auto acks = link_.Run(
      WithRanges("SELECT a.node, a.epoch, a.seq, a.received_at, a.incident, a.at, a.by, a.via, "
                 "a.note FROM r JOIN acks a ON a.node = r.node AND a.epoch = r.epoch "
                 "AND a.seq > r.after AND a.seq <= r.upto"),
      {chunk});
  if (!acks) return Error{"reading acks: " + acks.error()};
  for (int i = 0; i < acks->size(); ++i) {
    FeedEvent e;
    e.kind = FeedEvent::Kind::kAck;
    e.seq = acks->Int(i, 2);
    e.received_at = acks->Int(i, 3);
    e.incident = acks->Int(i, 4);
    e.at = acks->Int(i, 5);
    e.by = acks->Text(i, 6);
    e.via = acks->Text(i, 7);
    e.note = acks->TextOr(i, 8);
    read.events[{acks->Text(i, 0), acks->Int(i, 1)}].push_back(std::move(e));
  }
  auto windows = link_.Run(
      WithRanges("SELECT m.node, m.epoch, m.seq, x.received_at, m.from_at, m.until_at, m.by "
                 "FROM r JOIN maintenance_windows m ON m.node = r.node AND m.epoch = r.epoch "
                 "AND m.seq > r.after AND m.seq <= r.upto JOIN records x ON x.node = m.node "
                 "AND x.epoch = m.epoch AND x.seq = m.seq"),
      {chunk});
  if (!windows) return Error{"reading maintenance windows: " + windows.error()};
  for (int i = 0; i < windows->size(); ++i) {
    FeedEvent e;
    e.kind = FeedEvent::Kind::kMaintenance;
    e.seq = windows->Int(i, 2);
    e.received_at = windows->Int(i, 3);
    e.from = windows->Int(i, 4);
    e.until = windows->Int(i, 5);
    e.by = windows->Text(i, 6);
    read.events[{windows->Text(i, 0), windows->Int(i, 1)}].push_back(std::move(e));
  }
  for (auto& [key, list] : read.events) {
    std::sort(list.begin(), list.end(),
              [](const FeedEvent& a, const FeedEvent& b) { return a.seq < b.seq; });
  }
  // The newest heartbeat of each range, when it came live (received no later than
  // live_within after its minute's end): records arrive in seq order, so an older one of the
  // same range came no later, about an older minute. One index lookup per range, whatever
  // the range holds (a backlog drained from a spool is late anyway).
  auto beats = link_.Run(
      WithRanges("SELECT h.node, h.epoch, x.received_at, h.minute FROM r "
                 "JOIN heartbeats h ON h.node = r.node AND h.epoch = r.epoch AND h.seq = "
                 "(SELECT max(b.seq) FROM heartbeats b WHERE b.node = r.node AND "
                 "b.epoch = r.epoch AND b.seq > r.after AND b.seq <= r.upto) "
                 "JOIN records x ON x.node = h.node AND x.epoch = h.epoch AND x.seq = h.seq "
                 "WHERE x.received_at <= h.minute + CAST($2 AS BIGINT)"),
      {chunk, 60 + live_within_s});
  if (!beats) return Error{"reading heartbeats: " + beats.error()};
  for (int i = 0; i < beats->size(); ++i) {
    read.beats[{beats->Text(i, 0), beats->Int(i, 1)}] = {beats->Int(i, 2), beats->Int(i, 3)};
  }
  return read;
}

Outcome AlertFeed::SaveCursors(const std::vector<FeedRange>& ranges) {
  for (std::size_t from = 0; from < ranges.size(); from += kCursorsPerStatement) {
    const std::size_t to = std::min(ranges.size(), from + kCursorsPerStatement);
    std::string sql = "INSERT INTO alert_cursors (node, epoch, seq) VALUES ";
    SqlParams params;
    for (std::size_t i = from; i < to; ++i) {
      const int n = static_cast<int>(params.size());
      sql += (i == from ? "" : ", ") + std::string("($") + std::to_string(n + 1) + ", $" +
             std::to_string(n + 2) + ", $" + std::to_string(n + 3) + ")";
      params.emplace_back(ranges[i].node);
      params.emplace_back(ranges[i].epoch);
      params.emplace_back(ranges[i].upto);
    }
    sql += " ON CONFLICT (node, epoch) DO UPDATE SET seq = excluded.seq";
    auto done = link_.Run(sql, params);
    if (!done) return Error{"saving the cursors: " + done.error()};
  }
  return Success();
}

}  // namespace fleet::receiver
