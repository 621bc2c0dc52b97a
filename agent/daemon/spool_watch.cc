#include "agent/daemon/spool_watch.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "base/units.h"
#include "base/utc_time.h"

namespace fleet {

nlohmann::json SpoolWatch::Observe(const Result<SpoolState>& state, std::uint64_t max_size) {
  if (!state) return {{"error", state.error()}};
  const auto max = static_cast<double>(max_size);
  const double percent = 100.0 * static_cast<double>(state->bytes) / max;
  if (percent >= 80.0 && !warned_) {
    warned_ = true;
    spdlog::warn(
        "spool at {:.0f}% of spool.max_size ({} of {}); when full, detail records are "
        "shed and heartbeats kept",
        percent, FormatBytes(static_cast<std::uint64_t>(state->bytes)), FormatBytes(max_size));
  } else if (percent < 70.0 && warned_) {
    warned_ = false;
    spdlog::info("spool back under 70% of spool.max_size");
  }
  if (shed_logged_ < 0) shed_logged_ = state->shed;
  if (state->shed > shed_logged_) {
    spdlog::error(
        "spool full: {} detail record(s) shed so far (their history stays on this "
        "node; heartbeats are kept); the upstream has not acknowledged records for a "
        "while",
        state->shed);
    shed_logged_ = state->shed;
  }
  return {{"records", state->records},
          {"bytes", state->bytes},
          {"max_bytes", max_size},
          {"percent", std::round(percent * 10.0) / 10.0},
          // Full: no room left for a detail record, so they are shed now.
          {"full", state->bytes + 64 * 1024 >= static_cast<std::int64_t>(max_size)},
          {"shed_records", state->shed},
          {"oversized_records", state->oversized},
          // Refused for good by the receiver, kept aside in history.db (refused_records).
          {"refused_records", state->refused},
          {"last_refused", state->last_refused
                               ? nlohmann::json{{"epoch", state->last_refused->epoch},
                                                {"seq", state->last_refused->seq},
                                                {"type", state->last_refused->type},
                                                {"reason", state->last_refused->reason},
                                                {"at", FormatUtc(state->last_refused->refused_at)}}
                               : nlohmann::json(nullptr)},
          {"epoch", state->epoch},
          {"next_seq", state->next_seq}};
}

}  // namespace fleet
