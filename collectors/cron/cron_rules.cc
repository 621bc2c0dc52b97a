#include "collectors/cron/cron_rules.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/units.h"
#include "collectors/cron/cron_expression.h"

namespace fleet {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::size_t kDetailErrorBytes = 200;
constexpr std::size_t kRunErrorBytes = 4096;  // a finished run's error, before the record's cut
constexpr std::size_t kSummaryErrorBytes = 80;

// One line for a summary: the first line, control characters as spaces, cut at a word
// when one ends near the limit.
std::string OneLine(std::string_view text, std::size_t max_bytes) {
  std::string line;
  for (char c : text) {
    if (c == '\n' || c == '\r') break;
    line += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  if (line.size() > max_bytes) {
    const auto space = line.rfind(' ', max_bytes);
    if (space != std::string::npos && space > 0 && max_bytes - space < 20) {
      return line.substr(0, space) + "...";
    }
  }
  return TruncateUtf8(line, max_bytes);
}

struct Finding {
  Status status = Status::kOk;
  int order = 0;  // lower first among equal status: streak, failed, delivery, missed
  std::int64_t weight = 0;
  std::string text;
  bool missed = false;
  std::string missed_name;
  seconds overdue{0};
};

Finding MakeFinding(Status status, int order, std::int64_t weight, std::string text) {
  Finding f;
  f.status = status;
  f.order = order;
  f.weight = weight;
  f.text = std::move(text);
  return f;
}

struct JobEvaluation {
  json details;
  RunOutcome outcome;
  bool in_service;
  bool missed = false;
};

std::string Quoted(const CronJob& job) { return "'" + OneLine(job.name, 60) + "'"; }

JobEvaluation EvaluateJob(const CronJob& job, const CronRuleInput& input,
                          std::vector<Finding>& findings) {
  JobEvaluation eval;
  std::vector<std::string> problems = job.problems;
  eval.outcome = ClassifyLastStatus(job.last_status);
  const bool paused = job.state == "paused";
  const bool completed = job.state == "completed";
  const bool disabled = job.enabled.has_value() && !*job.enabled;
  eval.in_service = !paused && (!disabled || completed);

  std::int64_t streak = eval.outcome == RunOutcome::kFailed ? 1 : 0;
  std::string streak_source = "assumed from last_status (this Hermes does not record streaks)";
  if (job.failure_streak) {
    streak = *job.failure_streak;
    streak_source = "jobs.json";
  }

  std::optional<Timestamp> next_run;
  if (job.next_run_at) {
    auto parsed = ParseTimestamp(*job.next_run_at);
    if (parsed) {
      next_run = *parsed;
      if (parsed->naive) problems.push_back("next_run_at has no UTC offset: read as UTC");
    } else {
      problems.push_back("next_run_at: " + parsed.error() + "; cannot judge a missed run");
    }
  }
  if (job.last_run_at) {
    auto parsed = ParseTimestamp(*job.last_run_at);
    if (!parsed) problems.push_back("last_run_at: " + parsed.error());
  }

  const std::string out_dir = input.output_dir + "/" + OneLine(job.id, 80) + "/";
  const std::string error = OneLine(job.last_error, kSummaryErrorBytes);
  if (eval.in_service && streak >= std::max(1, input.critical_failure_streak)) {
    findings.push_back(MakeFinding(Status::kCritical, 0, streak,
                                   "job " + Quoted(job) + " failed " + std::to_string(streak) +
                                       " times in a row" + (error.empty() ? "" : ": " + error) +
                                       "; see " + out_dir));
  } else if (eval.in_service && eval.outcome == RunOutcome::kFailed) {
    findings.push_back(MakeFinding(Status::kWarning, 1, streak,
                                   "job " + Quoted(job) + " failed its last run" +
                                       (error.empty() ? " (no error recorded)" : ": " + error) +
                                       "; see " + out_dir));
  }
  if (eval.in_service && eval.outcome == RunOutcome::kDeliveryFailed) {
    const std::string why = OneLine(job.last_delivery_error, kSummaryErrorBytes);
    findings.push_back(MakeFinding(Status::kWarning, 2, 0,
                                   "job " + Quoted(job) + " ran but its delivery failed" +
                                       (why.empty() ? "" : ": " + why) +
                                       "; check the delivery target"));
  }

  json missed_details = nullptr;
  if (eval.in_service && !completed && !disabled && next_run) {
    const MissedRunGrace grace = GraceFor(job.schedule, next_run);
    const auto overdue = std::chrono::duration_cast<seconds>(input.now - next_run->at);
    eval.missed = overdue > grace.grace;
    missed_details = {{"grace_seconds", grace.grace.count()}, {"grace_basis", grace.basis}};
    if (eval.missed) {
      missed_details["overdue_seconds"] = overdue.count();
      Finding f =
          MakeFinding(Status::kWarning, 3, overdue.count(),
                      "job " + Quoted(job) + " missed its run due " + FormatDuration(overdue) +
                          " ago; cron runs inside the gateway: check that it is running");
      f.missed = true;
      f.missed_name = Quoted(job);
      f.overdue = overdue;
      findings.push_back(std::move(f));
    }
  }

  auto nullable = [](const std::optional<std::string>& s) -> json {
    return s ? json(*s) : json(nullptr);
  };
  eval.details = {
      {"id", job.id},
      {"name", job.name},
      {"schedule", job.schedule.display},
      {"state", job.state.empty() ? json(nullptr) : json(job.state)},
      {"enabled", job.enabled ? json(*job.enabled) : json(nullptr)},
      {"last_status", nullable(job.last_status)},
      {"last_error", job.last_error.empty()
                         ? json(nullptr)
                         : json(TruncateUtf8(job.last_error, kDetailErrorBytes))},
      {"failure_streak", streak},
      {"failure_streak_source", streak_source},
      {"last_run_at", nullable(job.last_run_at)},
      {"next_run_at", nullable(job.next_run_at)},
      {"missed", eval.missed},
  };
  if (!job.last_delivery_error.empty()) {
    eval.details["last_delivery_error"] = TruncateUtf8(job.last_delivery_error, kDetailErrorBytes);
  }
  if (!missed_details.is_null()) eval.details["missed_run"] = std::move(missed_details);
  if (!eval.in_service) eval.details["in_service"] = false;
  if (!problems.empty()) eval.details["problems"] = problems;
  return eval;
}

std::string OkSummary(const json& totals) {
  const auto jobs = totals["jobs"].get<int>();
  if (jobs == 0) return "no cron jobs defined";
  std::string text = std::to_string(jobs) + (jobs == 1 ? " cron job: " : " cron jobs: ");
  std::vector<std::string> parts;
  auto add = [&](const char* key, const char* label) {
    if (int n = totals[key].get<int>(); n > 0) parts.push_back(std::to_string(n) + " " + label);
  };
  add("ok", "ok");
  add("never_run", "never run");
  add("paused", "paused");
  add("disabled", "disabled");
  add("other", "other status");
  if (parts.empty()) parts.push_back("nothing to report");
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + parts[i];
  return text;
}

std::string Summarize(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.status != b.status) return a.status == Status::kCritical;
    if (a.order != b.order) return a.order < b.order;
    return a.weight > b.weight;
  });
  const Finding& top = findings.front();
  const auto missed =
      std::count_if(findings.begin(), findings.end(), [](const Finding& f) { return f.missed; });
  std::string text = top.text;
  std::size_t covered = 1;
  if (top.missed && missed > 1) {
    text = std::to_string(missed) + " jobs missed their runs (" + top.missed_name + " due " +
           FormatDuration(top.overdue) +
           " ago); cron runs inside the gateway: check that it is running";
    covered = static_cast<std::size_t>(missed);
  }
  if (findings.size() > covered) {
    const auto more = findings.size() - covered;
    text += " (+" + std::to_string(more) + " more problem" + (more == 1 ? "" : "s") + ")";
  }
  return text;
}

}  // namespace

RunOutcome ClassifyLastStatus(const std::optional<std::string>& last_status) {
  if (!last_status) return RunOutcome::kNeverRun;
  const std::string& s = *last_status;
  if (s == "ok" || s == "success") return RunOutcome::kOk;
  if (s == "error" || s == "failed" || s == "failure" || s == "timeout") {
    return RunOutcome::kFailed;
  }
  if (s == "delivery_failed") return RunOutcome::kDeliveryFailed;
  return RunOutcome::kOther;
}

MissedRunGrace GraceFor(const CronSchedule& schedule, const std::optional<Timestamp>& next_run) {
  std::optional<seconds> period;
  std::string basis;
  switch (schedule.kind) {
    case CronSchedule::Kind::kInterval:
      if (schedule.minutes) {
        period = seconds(std::llround(*schedule.minutes * 60));
        basis = "every " + FormatDuration(*period);
      }
      break;
    case CronSchedule::Kind::kCron:
      if (auto expr = ParseCronExpression(schedule.expr); expr && next_run) {
        period = FiringGap(*expr, next_run->wall);
        if (period) basis = "cron, next gap " + FormatDuration(*period);
      }
      break;
    case CronSchedule::Kind::kOnce:
      period = minutes(4);  // half of it is the 2 min floor
      basis = "one-shot";
      break;
    case CronSchedule::Kind::kUnknown:
      break;
  }
  seconds grace = hours(2);
  if (period) {
    grace = std::clamp<seconds>(*period / 2, minutes(2), hours(2));
  } else {
    basis = "period unknown, largest grace";
  }
  return {std::max<seconds>(grace, minutes(5)), basis};
}

// The job's last run, when it has finished one whose time reads (a run at a time that does
// not parse cannot be counted once).
std::optional<FinishedRun> FinishedRunOf(const CronJob& job, RunOutcome outcome) {
  if (outcome == RunOutcome::kNeverRun || !job.last_run_at || job.id.empty()) return std::nullopt;
  auto parsed = ParseTimestamp(*job.last_run_at);
  if (!parsed) return std::nullopt;
  FinishedRun run;
  run.job = job.id;
  run.name = job.name.empty() ? job.id : job.name;
  run.run_at = *job.last_run_at;
  run.run_at_unix =
      std::chrono::duration_cast<std::chrono::seconds>(parsed->at.time_since_epoch()).count();
  run.ok = outcome == RunOutcome::kOk;
  // A jobs.json error can be megabytes; the task record keeps 1 KiB of it (TaskOf).
  if (!run.ok) {
    run.error =
        TruncateUtf8(job.last_error.empty() ? *job.last_status : job.last_error, kRunErrorBytes);
  }
  return run;
}

CheckResult EvaluateCronJobs(const JobsFile& file, const CronRuleInput& input) {
  std::vector<Finding> findings;
  std::vector<FinishedRun> runs;
  json jobs = json::array();
  json totals = {{"jobs", 0},   {"enabled", 0},   {"ok", 0},
                 {"failed", 0}, {"never_run", 0}, {"delivery_failed", 0},
                 {"missed", 0}, {"paused", 0},    {"disabled", 0},
                 {"other", 0}};
  bool streak_assumed = false;
  for (const CronJob& job : file.jobs) {
    JobEvaluation eval = EvaluateJob(job, input, findings);
    if (auto run = FinishedRunOf(job, eval.outcome)) runs.push_back(std::move(*run));
    totals["jobs"] = totals["jobs"].get<int>() + 1;
    auto bump = [&totals](const char* key) { totals[key] = totals[key].get<int>() + 1; };
    if (!job.enabled || *job.enabled) bump("enabled");
    if (job.state == "paused") {
      bump("paused");
    } else if (job.enabled && !*job.enabled && job.state != "completed") {
      bump("disabled");
    }
    switch (eval.outcome) {
      case RunOutcome::kOk:
        bump("ok");
        break;
      case RunOutcome::kFailed:
        bump("failed");
        break;
      case RunOutcome::kDeliveryFailed:
        bump("delivery_failed");
        break;
      case RunOutcome::kNeverRun:
        bump("never_run");
        break;
      case RunOutcome::kOther:
        bump("other");
        break;
    }
    if (eval.missed) bump("missed");
    if (!job.failure_streak) streak_assumed = true;
    jobs.push_back(std::move(eval.details));
  }

  json details = {{"file_shape", ShapeName(file.shape)},
                  {"updated_at", file.updated_at ? json(*file.updated_at) : json(nullptr)},
                  {"critical_failure_streak", input.critical_failure_streak},
                  {"totals", totals},
                  {"jobs", std::move(jobs)}};
  if (streak_assumed && !file.jobs.empty()) {
    details["notes"].push_back(
        "some jobs have no failure_streak (older Hermes): their streak is assumed 1 after a "
        "failed run, 0 otherwise, so they cannot reach the critical streak unless it is 1");
  }
  if (!file.problems.empty()) details["problems"] = file.problems;

  Status status = Status::kOk;
  for (const auto& f : findings) status = Worse(status, f.status);
  std::string summary = findings.empty() ? OkSummary(totals) : Summarize(findings);
  CheckResult result = MakeResult("cron", status, std::move(summary), std::move(details));
  result.finished_runs = std::move(runs);
  return result;
}

}  // namespace fleet
