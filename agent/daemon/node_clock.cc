#include "agent/daemon/node_clock.h"

#include <sys/timex.h>
#include <time.h>

#include <fstream>

namespace fleet {

NodeClock::NodeClock() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::getline(in, boot_id_);
  if (boot_id_.empty()) boot_id_ = "unknown";
}

RecordStamp NodeClock::Stamp() const {
  RecordStamp stamp;
  stamp.wall = ToUnixSeconds(std::chrono::system_clock::now());
  stamp.boot_id = boot_id_;
  struct timespec ts {};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  stamp.mono_ms = static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
  return stamp;
}

bool NodeClock::NtpSynced() const {
  struct timex tx {};
  const int state = ::adjtimex(&tx);
  return state != -1 && state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}

}  // namespace fleet
