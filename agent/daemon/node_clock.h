// NodeClock: what every record is stamped with (wall time, CLOCK_BOOTTIME milliseconds,
// the kernel boot_id) and whether the kernel clock is NTP-synchronised (adjtimex). The
// boot id is read once; a changed boot id between runs means the machine rebooted.
#pragma once

#include <string>

#include "agent/history/history_store.h"

namespace fleet {

class NodeClock {
 public:
  NodeClock();
  RecordStamp Stamp() const;
  bool NtpSynced() const;
  const std::string& boot_id() const { return boot_id_; }

 private:
  std::string boot_id_;
};

}  // namespace fleet
