#include "receiver/alerts/alert_feed.h"

#include <algorithm>

namespace fleet::receiver {
namespace {

SqlParams RangeParams(const FeedRange& range) {
  return {range.node, range.epoch, range.after, range.upto};
}

}  // namespace

Result<std::vector<FeedRange>> AlertFeed::Advanced(std::int64_t chunk) {
  auto rows = link_.Run(
      "SELECT w.node, w.epoch, COALESCE(c.seq, 0), w.ack_seq FROM watermarks w "
      "LEFT JOIN alert_cursors c ON c.node = w.node AND c.epoch = w.epoch "
      "WHERE w.ack_seq > COALESCE(c.seq, 0) ORDER BY w.node, w.epoch");
  if (!rows) return Error{"reading the watermarks: " + rows.error()};
  std::vector<FeedRange> ranges;
  for (int i = 0; i < rows->size(); ++i) {
    FeedRange range{rows->Text(i, 0), rows->Int(i, 1), rows->Int(i, 2), rows->Int(i, 3)};
    if (range.upto > range.after + chunk) {
      range.upto = range.after + chunk;
      range.more = true;
    }
    ranges.push_back(std::move(range));
  }
  return ranges;
}

Result<std::vector<FeedEvent>> AlertFeed::Events(const FeedRange& range) {
  std::vector<FeedEvent> events;
  auto incidents = link_.Run(
      "SELECT i.seq, r.received_at, i.incident_id, i.check_name, i.opened, i.closed, i.summary "
      "FROM incidents i JOIN records r ON r.node = i.node AND r.epoch = i.epoch "
      "AND r.seq = i.seq WHERE i.node = $1 AND i.epoch = $2 AND i.seq > $3 AND i.seq <= $4",
      RangeParams(range));
  if (!incidents) return Error{"reading incidents: " + incidents.error()};
  for (int i = 0; i < incidents->size(); ++i) {
    FeedEvent e;
    e.kind = FeedEvent::Kind::kIncident;
    e.seq = incidents->Int(i, 0);
    e.received_at = incidents->Int(i, 1);
    e.incident = incidents->Int(i, 2);
    e.check = incidents->Text(i, 3);
    e.opened = incidents->Int(i, 4);
    e.closed = incidents->IntOr(i, 5);
    e.summary = incidents->Text(i, 6);
    events.push_back(std::move(e));
  }
  auto acks = link_.Run(
      "SELECT seq, received_at, incident, at, by, via, note FROM acks "
      "WHERE node = $1 AND epoch = $2 AND seq > $3 AND seq <= $4",
      RangeParams(range));
  if (!acks) return Error{"reading acks: " + acks.error()};
  for (int i = 0; i < acks->size(); ++i) {
    FeedEvent e;
    e.kind = FeedEvent::Kind::kAck;
    e.seq = acks->Int(i, 0);
    e.received_at = acks->Int(i, 1);
    e.incident = acks->Int(i, 2);
    e.at = acks->Int(i, 3);
    e.by = acks->Text(i, 4);
    e.via = acks->Text(i, 5);
    e.note = acks->TextOr(i, 6);
    events.push_back(std::move(e));
  }
  auto windows = link_.Run(
      "SELECT m.seq, r.received_at, m.from_at, m.until_at, m.by FROM maintenance_windows m "
      "JOIN records r ON r.node = m.node AND r.epoch = m.epoch AND r.seq = m.seq "
      "WHERE m.node = $1 AND m.epoch = $2 AND m.seq > $3 AND m.seq <= $4",
      RangeParams(range));
  if (!windows) return Error{"reading maintenance windows: " + windows.error()};
  for (int i = 0; i < windows->size(); ++i) {
    FeedEvent e;
    e.kind = FeedEvent::Kind::kMaintenance;
    e.seq = windows->Int(i, 0);
    e.received_at = windows->Int(i, 1);
    e.from = windows->Int(i, 2);
    e.until = windows->Int(i, 3);
    e.by = windows->Text(i, 4);
    events.push_back(std::move(e));
  }
  std::sort(events.begin(), events.end(),
            [](const FeedEvent& a, const FeedEvent& b) { return a.seq < b.seq; });
  return events;
}

Result<std::optional<LiveBeat>> AlertFeed::LatestLiveBeat(const FeedRange& range,
                                                          std::int64_t live_within_s) {
  // Live: received no later than live_within after the minute's end.
  SqlParams params = RangeParams(range);
  params.emplace_back(60 + live_within_s);
  auto rows = link_.Run(
      "SELECT r.received_at, h.minute FROM heartbeats h JOIN records r ON r.node = h.node "
      "AND r.epoch = h.epoch AND r.seq = h.seq WHERE h.node = $1 AND h.epoch = $2 "
      "AND h.seq > $3 AND h.seq <= $4 AND r.received_at <= h.minute + CAST($5 AS BIGINT) "
      "ORDER BY r.received_at DESC, h.minute DESC LIMIT 1",
      params);
  if (!rows) return Error{"reading heartbeats: " + rows.error()};
  if (rows->empty()) return std::optional<LiveBeat>();
  return std::optional<LiveBeat>(LiveBeat{rows->Int(0, 0), rows->Int(0, 1)});
}

Outcome AlertFeed::SaveCursor(const std::string& node, std::int64_t epoch, std::int64_t seq) {
  auto done = link_.Run(
      "INSERT INTO alert_cursors (node, epoch, seq) VALUES ($1, $2, $3) "
      "ON CONFLICT (node, epoch) DO UPDATE SET seq = excluded.seq",
      {node, epoch, seq});
  if (!done) return Error{"saving the cursor: " + done.error()};
  return Success();
}

}  // namespace fleet::receiver
