// fleet-spool-fill STATE_DIR NODE COUNT [FIRST_MINUTE]: appends COUNT signed heartbeat
// records (one per minute, from FIRST_MINUTE, default COUNT minutes before now) to the
// spool in STATE_DIR with the node key there, exactly as the daemon makes them. The push
// tests use it to stand for hours or days of records made while the upstream was away
// (a compressed clock), so they need not wait for real minutes. With FILL_DOWN_EVERY=N in
// the environment every N-th minute is a down one. With FILL_ALERTS=1, three critical
// incidents among the minutes (from minute 10, 1000 and 2000 of the fill), recorded as the
// daemon and `fleet-agent ack` record them: gateway acknowledged via telegram after 4 min
// and closed after 2 h, tmux closed after 12 min and acknowledged via cli after 45 min, disk
// closed after exactly 30 min and never acknowledged.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "agent/history/history_store.h"
#include "agent/records/node_key.h"
#include "base/utc_time.h"

int main(int argc, char** argv) {
  using namespace fleet;
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: fleet-spool-fill STATE_DIR NODE COUNT [FIRST_MINUTE]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const long long count = std::atoll(argv[3]);
  const UnixMinute now = MinuteOf(ToUnixSeconds(std::chrono::system_clock::now()));
  const UnixMinute first = argc == 5 ? std::atoll(argv[4]) : now - count - 1;
  auto key = LoadNodeKey(dir);
  if (!key || !key->has_value()) {
    std::fprintf(stderr, "fleet-spool-fill: no node key in %s\n", dir.c_str());
    return 1;
  }
  auto store = HistoryStore::Open(dir, false, argv[2], "spool-fill", **key);
  if (!store) {
    std::fprintf(stderr, "fleet-spool-fill: %s\n", store.error().c_str());
    return 1;
  }
  const char* down_every_text = std::getenv("FILL_DOWN_EVERY");
  const long long down_every = down_every_text ? std::atoll(down_every_text) : 0;
  const char* alerts_text = std::getenv("FILL_ALERTS");
  const bool alerts = alerts_text != nullptr && std::string(alerts_text) == "1";
  // What happens at minute i of the fill, after its heartbeat, stamped 30 s into it.
  std::map<long long, std::function<Outcome(HistoryStore&, const RecordStamp&)>> events;
  std::map<std::string, std::int64_t> ids;  // check -> incident id
  const auto open = [&](const std::string& check) {
    return [&ids, check](HistoryStore& s, const RecordStamp& at) -> Outcome {
      auto id = s.OpenIncident(check, check + ": critical", at);
      if (!id) return Error{id.error()};
      ids[check] = *id;
      return Success();
    };
  };
  const auto close = [&](const std::string& check) {
    return [&ids, check](HistoryStore& s, const RecordStamp& at) {
      return s.CloseIncident(ids[check], at);
    };
  };
  const auto ack = [&](const std::string& check, const std::string& by, protocol::AckVia via) {
    return [&ids, check, by, via](HistoryStore& s, const RecordStamp& at) {
      return s.AddAck({ids[check], at.wall, by, via, std::nullopt}, at);
    };
  };
  if (alerts) {
    events = {{10, open("gateway")},   {14, ack("gateway", "ada", protocol::AckVia::kTelegram)},
              {130, close("gateway")}, {1000, open("tmux")},
              {1012, close("tmux")},   {1045, ack("tmux", "hermes", protocol::AckVia::kCli)},
              {2000, open("disk")},    {2030, close("disk")}};
  }
  long long added = 0;
  for (long long i = 0; i < count; ++i) {
    const UnixMinute minute = first + i;
    RecordStamp stamp{minute * 60 + 1, "spool-fill-boot", (minute - first) * 60'000};
    const bool up = !(down_every > 0 && (i + 1) % down_every == 0);
    auto done = (*store)->AddHeartbeat(
        {minute, up, {{"disk", up ? Status::kOk : Status::kCritical}}, true}, stamp);
    if (!done) {
      std::fprintf(stderr, "fleet-spool-fill: %s\n", done.error().c_str());
      return 1;
    }
    added += *done ? 1 : 0;
    if (auto event = events.find(i); event != events.end()) {
      const RecordStamp at{minute * 60 + 30, "spool-fill-boot", (minute - first) * 60'000 + 30'000};
      if (auto recorded = event->second(**store, at); !recorded) {
        std::fprintf(stderr, "fleet-spool-fill: %s\n", recorded.error().c_str());
        return 1;
      }
    }
  }
  std::printf("%lld\n", added);
  return 0;
}
