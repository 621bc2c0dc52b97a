// SpoolWatch: what the daemon says of its spool. Logs once when the spool crosses 80% of
// spool.max_size (and once when it is back under 70%), and an error each time more detail
// records were shed; returns the spool's part of status.json (records, bytes, percent,
// full, shed, oversized and refused records, the last refusal, epoch and next seq).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "agent/history/spool.h"
#include "base/result.h"

namespace fleet {

class SpoolWatch {
 public:
  nlohmann::json Observe(const Result<SpoolState>& state, std::uint64_t max_size);

 private:
  bool warned_ = false;
  std::int64_t shed_logged_ = -1;
};

}  // namespace fleet
