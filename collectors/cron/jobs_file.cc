#include "collectors/cron/jobs_file.h"

#include <cmath>
#include <set>
#include <vector>

#include "base/json_text.h"

namespace fleet {
namespace {

using nlohmann::json;

std::string WrongType(std::string_view field, const json& value, std::string_view expected) {
  return std::string(field) + " is " + (value.is_array() || value.is_object() ? "an " : "a ") +
         JsonTypeName(value) + ", expected " + std::string(expected) + ": ignored";
}

// A string field; null and absent give nullopt, other types a problem.
std::optional<std::string> StringField(const json& job, std::string_view field,
                                       std::vector<std::string>& problems) {
  auto it = job.find(field);
  if (it == job.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  problems.push_back(WrongType(field, *it, "a string"));
  return std::nullopt;
}

std::optional<std::int64_t> IntegerField(const json& job, std::string_view field,
                                         std::vector<std::string>& problems) {
  auto it = job.find(field);
  if (it == job.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) {
    const double value = it->get<double>();
    if (std::isfinite(value) && value >= 0 && value < 1e15 && std::floor(value) == value) {
      return static_cast<std::int64_t>(value);
    }
    problems.push_back(std::string(field) + " is " + PrintableAscii(it->dump(), 30) +
                       ", expected a count: ignored");
    return std::nullopt;
  }
  problems.push_back(WrongType(field, *it, "a number"));
  return std::nullopt;
}

CronSchedule::Kind KindFromText(std::string_view kind) {
  if (kind == "interval") return CronSchedule::Kind::kInterval;
  if (kind == "cron") return CronSchedule::Kind::kCron;
  if (kind == "once") return CronSchedule::Kind::kOnce;
  return CronSchedule::Kind::kUnknown;
}

CronSchedule ParseSchedule(const json& job, std::vector<std::string>& problems) {
  CronSchedule schedule;
  auto it = job.find("schedule");
  if (it != job.end() && it->is_string()) {
    // Not a shape Hermes writes; take a 5-field string as a cron expression.
    schedule.display = it->get<std::string>();
    schedule.expr = schedule.display;
    schedule.kind = CronSchedule::Kind::kCron;
    schedule.kind_text = "cron";
  } else if (it != job.end() && it->is_object()) {
    const json& s = *it;
    std::vector<std::string> inner;
    if (auto kind = StringField(s, "kind", inner)) {
      schedule.kind_text = *kind;
      schedule.kind = KindFromText(*kind);
    }
    if (auto display = StringField(s, "display", inner)) schedule.display = *display;
    if (auto expr = StringField(s, "expr", inner)) schedule.expr = *expr;
    schedule.run_at = StringField(s, "run_at", inner);
    for (auto& problem : inner) problems.push_back("schedule." + problem);
    if (auto m = s.find("minutes"); m != s.end() && !m->is_null()) {
      if (m->is_number() && std::isfinite(m->get<double>()) && m->get<double>() > 0) {
        schedule.minutes = m->get<double>();
      } else {
        problems.push_back("schedule.minutes is " + PrintableAscii(m->dump(), 30) +
                           ", expected a positive number: ignored");
      }
    }
  } else if (it != job.end() && !it->is_null()) {
    problems.push_back(WrongType("schedule", *it, "an object"));
  }
  if (schedule.display.empty()) {
    if (auto display = StringField(job, "schedule_display", problems)) {
      schedule.display = *display;
    } else if (!schedule.expr.empty()) {
      schedule.display = schedule.expr;
    } else if (schedule.minutes) {
      schedule.display = "every " + std::to_string(std::llround(*schedule.minutes)) + "m";
    }
  }
  return schedule;
}

CronJob ParseJob(const json& entry, const std::string& fallback_id) {
  CronJob job;
  auto& problems = job.problems;
  job.id = StringField(entry, "id", problems).value_or(fallback_id);
  if (job.id.empty()) job.id = fallback_id;
  job.name = StringField(entry, "name", problems).value_or(job.id);
  job.schedule = ParseSchedule(entry, problems);
  if (auto it = entry.find("enabled"); it != entry.end() && !it->is_null()) {
    if (it->is_boolean()) {
      job.enabled = it->get<bool>();
    } else {
      problems.push_back(WrongType("enabled", *it, "true or false"));
    }
  }
  job.state = StringField(entry, "state", problems).value_or("");
  job.last_status = StringField(entry, "last_status", problems);
  job.last_error = StringField(entry, "last_error", problems).value_or("");
  job.last_delivery_error = StringField(entry, "last_delivery_error", problems).value_or("");
  job.failure_streak = IntegerField(entry, "failure_streak", problems);
  job.last_run_at = StringField(entry, "last_run_at", problems);
  job.next_run_at = StringField(entry, "next_run_at", problems);
  return job;
}

void AddEntry(JobsFile& file, const json& entry, const std::string& fallback_id,
              const std::string& where) {
  if (!entry.is_object()) {
    file.problems.push_back(where + " is " + (entry.is_array() ? "an " : "a ") +
                            JsonTypeName(entry) + ", not a job: skipped");
    return;
  }
  file.jobs.push_back(ParseJob(entry, fallback_id));
}

}  // namespace

std::string_view ShapeName(JobsFile::Shape shape) {
  switch (shape) {
    case JobsFile::Shape::kJobsObject:
      return "object with jobs";
    case JobsFile::Shape::kList:
      return "bare list";
    case JobsFile::Shape::kIdKeyed:
      return "id-keyed object";
  }
  return "object with jobs";
}

namespace {

// What the parser keeps of the file: the top level, the job entries (the members of the
// top-level object or list, or of its "jobs" list) and, in a job, only the fields read
// above (a prompt of megabytes is skipped as it is read). Arrays below that keep no
// elements: a field is still seen to be an array (and noted as the wrong type).
bool KeepJobField(int depth, json::parse_event_t event, json& parsed, std::vector<char>& kinds,
                  bool& in_jobs) {
  using Event = json::parse_event_t;
  if (event == Event::object_end || event == Event::array_end) return true;
  if (event == Event::key) {
    const auto& name = parsed.get_ref<const std::string&>();
    if (depth == 1) {
      in_jobs = name == "jobs";
      return true;
    }
    static const std::set<std::string, std::less<>> kFields = {"id",
                                                               "name",
                                                               "schedule",
                                                               "schedule_display",
                                                               "enabled",
                                                               "state",
                                                               "last_status",
                                                               "last_error",
                                                               "last_delivery_error",
                                                               "failure_streak",
                                                               "last_run_at",
                                                               "next_run_at",
                                                               "kind",
                                                               "display",
                                                               "expr",
                                                               "run_at",
                                                               "minutes"};
    return kFields.count(name) > 0;
  }
  // A value or a container starting at `depth`, in the container at depth - 1.
  if (depth >= 1 && kinds.size() >= static_cast<std::size_t>(depth) && kinds[depth - 1] == 'a') {
    const bool job_entry = depth == 1 || (depth == 2 && in_jobs);
    if (!job_entry) return false;
  }
  if (event == Event::object_start || event == Event::array_start) {
    kinds.resize(static_cast<std::size_t>(depth) + 1);
    kinds[depth] = event == Event::object_start ? 'o' : 'a';
  }
  return true;
}

}  // namespace

Result<JobsFile> ParseJobsFile(std::string_view text) {
  std::vector<char> kinds;  // per depth: 'o' or 'a', the container last opened there
  bool in_jobs = false;
  auto parsed = ParseJsonText(text, kDefaultMaxJsonDepth,
                              [&](int depth, json::parse_event_t event, json& value) {
                                return KeepJobField(depth, event, value, kinds, in_jobs);
                              });
  if (!parsed) return Error{parsed.error()};
  const json& root = *parsed;
  JobsFile file;
  if (root.is_array()) {
    file.shape = JobsFile::Shape::kList;
    for (std::size_t i = 0; i < root.size(); ++i) {
      const std::string index = std::to_string(i);
      AddEntry(file, root[i], "#" + index, "entry #" + index);
    }
    return file;
  }
  if (!root.is_object()) {
    return Error{"the file holds " + std::string(root.is_array() ? "an " : "a ") +
                 JsonTypeName(root) + ", not {\"jobs\": [...]}, a list or an id-keyed object"};
  }
  if (auto jobs = root.find("jobs"); jobs != root.end()) {
    if (!jobs->is_array()) {
      return Error{"\"jobs\" is " + std::string(jobs->is_object() ? "an " : "a ") +
                   JsonTypeName(*jobs) + ", expected a list"};
    }
    file.shape = JobsFile::Shape::kJobsObject;
    file.updated_at = StringField(root, "updated_at", file.problems);
    for (std::size_t i = 0; i < jobs->size(); ++i) {
      const std::string index = std::to_string(i);
      AddEntry(file, (*jobs)[i], "#" + index, "jobs[" + index + "]");
    }
    return file;
  }
  file.shape = JobsFile::Shape::kIdKeyed;
  for (const auto& [key, entry] : root.items()) {
    if (key == "updated_at" && entry.is_string()) {
      file.updated_at = entry.get<std::string>();
      continue;
    }
    AddEntry(file, entry, key, "entry '" + PrintableAscii(key, 40) + "'");
  }
  return file;
}

}  // namespace fleet
