// ParseJobsFile: Hermes' `cron/jobs.json` in any of its three shapes (newest
// `{"jobs": [...], "updated_at": ...}`, older a bare list or an object keyed by job id)
// into plain structs. Only the file as a whole can fail: not JSON, nested absurdly deep, or
// a top level that is none of the shapes. A field of the wrong type is ignored and noted in
// the job's `problems`; an entry that is not an object is skipped and noted in the file's
// `problems`. Timestamps stay as written (see timestamp.h). Pure; never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace fleet {

struct CronSchedule {
  enum class Kind { kInterval, kCron, kOnce, kUnknown };
  Kind kind = Kind::kUnknown;
  std::string kind_text;              // as written ("interval", "cron", ...)
  std::optional<double> minutes;      // interval
  std::string expr;                   // cron
  std::optional<std::string> run_at;  // once
  std::string display;                // "every 30m", "0 3 * * *", ...
};

struct CronJob {
  std::string id;
  std::string name;
  CronSchedule schedule;
  std::optional<bool> enabled;             // absent: Hermes' default, enabled
  std::string state;                       // scheduled|paused|completed|error; "" if absent
  std::optional<std::string> last_status;  // nullopt: null or absent (never run)
  std::string last_error;
  std::string last_delivery_error;
  std::optional<std::int64_t> failure_streak;  // newer Hermes only
  std::optional<std::string> last_run_at;
  std::optional<std::string> next_run_at;
  std::vector<std::string> problems;  // fields of the wrong type, ignored
};

struct JobsFile {
  enum class Shape { kJobsObject, kList, kIdKeyed };
  Shape shape = Shape::kJobsObject;
  std::vector<CronJob> jobs;
  std::optional<std::string> updated_at;
  std::vector<std::string> problems;  // skipped entries
};

// "object with jobs", "bare list", "id-keyed object".
std::string_view ShapeName(JobsFile::Shape shape);

Result<JobsFile> ParseJobsFile(std::string_view text);

}  // namespace fleet
