// fleet-spool-fill STATE_DIR NODE COUNT [FIRST_MINUTE]: appends COUNT signed heartbeat
// records (one per minute, from FIRST_MINUTE, default COUNT minutes before now) to the
// spool in STATE_DIR with the node key there, exactly as the daemon makes them. The push
// tests use it to stand for hours or days of records made while the upstream was away
// (a compressed clock), so they need not wait for real minutes. With FILL_DOWN_EVERY=N in
// the environment every N-th minute is a down one.
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
  }
  std::printf("%lld\n", added);
  return 0;
}
