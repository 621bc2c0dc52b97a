// Reading side of the cron check: finds and reads jobs.json through the Os seam (symlinks
// followed and reported; directories, FIFOs, oversized and unreadable files refused with
// one line each), then hands the text to ParseJobsFile and the rules in cron_rules.h.
#include "collectors/cron/cron_check.h"

#include <charconv>
#include <cmath>

#include "base/units.h"
#include "collectors/cron/cron_rules.h"
#include "collectors/cron/jobs_file.h"

namespace fleet {
namespace {

using nlohmann::json;

// A Hermes jobs file is a few KiB per job; anything near this is not one.
constexpr std::uint64_t kMaxJobsFileBytes = 4ull << 20;
constexpr std::uint64_t kMaxHeartbeatBytes = 4096;

std::string DirName(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Age of cron/ticker_heartbeat (epoch seconds as text), when the file is there.
void AddTickerHeartbeat(const CheckContext& context, const std::string& cron_dir, json& details) {
  const std::string path = cron_dir + "/ticker_heartbeat";
  auto content = context.os.ReadFile(path, kMaxHeartbeatBytes);
  if (!content) {
    details["ticker_heartbeat_problem"] = content.error();
    return;
  }
  if (!content->has_value()) return;
  std::string_view text = **content;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  double epoch = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), epoch);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(epoch) || epoch < 0 ||
      epoch > 7e9) {
    details["ticker_heartbeat_problem"] = "ticker_heartbeat does not hold an epoch time";
    return;
  }
  const auto beat = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(epoch)));
  details["ticker_heartbeat_age_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(context.os.Now() - beat).count();
}

class CronCheck final : public Collector {
 public:
  explicit CronCheck(CronOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "cron"; }
  CheckResult Run(const CheckContext& context) override;

 private:
  CronOptions options_;
};

CheckResult CronCheck::Run(const CheckContext& context) {
  const Os& os = context.os;
  const std::string path = ResolveInHome(context.hermes, options_.jobs_file);
  const std::string shown = DisplayPath(context.hermes, path);
  json details = {{"path", path}};
  auto unknown = [&](std::string summary) {
    return MakeResult("cron", Status::kUnknown, std::move(summary), details);
  };
  if (auto refusal = RefuseUntrustedFile(os, context.hermes, path)) {
    return unknown("refusing to read " + shown + ": " + refusal->reason +
                   (refusal->secret ? "; fix checks.cron.jobs_file" : ""));
  }

  auto link = os.Stat(path, /*follow=*/false);
  if (!link) return unknown("cannot read " + shown + ": " + link.error());
  const bool symlink = link->has_value() && (*link)->kind == FileInfo::Kind::kSymlink;
  details["symlink"] = symlink;
  auto info = os.Stat(path, /*follow=*/true);
  if (!info) return unknown("cannot read " + shown + ": " + info.error());
  if (!info->has_value()) {
    if (symlink) return unknown(shown + " is a dangling symlink; point it at the real jobs.json");
    if (options_.jobs_file.empty() || options_.jobs_file.front() != '/') {
      auto home = os.Stat(context.hermes.home, true);
      if (home && !home->has_value()) {
        return unknown("Hermes home " + DisplayPath(context.hermes, context.hermes.home) +
                       " does not exist; set hermes.home or HERMES_HOME");
      }
    }
    details["present"] = false;
    return MakeResult("cron", Status::kOk,
                      "no cron jobs: " + shown +
                          " does not exist (Hermes writes it with the "
                          "first job)",
                      details);
  }
  const FileInfo& file = **info;
  details["size_bytes"] = file.size;
  if (file.kind == FileInfo::Kind::kDirectory) {
    return unknown(shown + " is a directory, not the jobs file");
  }
  if (file.kind != FileInfo::Kind::kRegular) {
    return unknown(shown + " is not a regular file (a FIFO, socket or device?)");
  }
  if (file.size > kMaxJobsFileBytes) {
    return unknown(shown + " is " + FormatBytes(file.size) + ", over the " +
                   FormatBytes(kMaxJobsFileBytes) +
                   " limit for a jobs file (a few KiB per job); check what wrote it");
  }

  auto content = os.ReadFile(path, kMaxJobsFileBytes);
  if (!content) return unknown("cannot read " + content.error());
  if (!content->has_value()) return unknown(shown + " vanished while being read; try again");
  auto parsed = ParseJobsFile(**content);
  if (!parsed) return unknown("cannot use " + shown + ": " + parsed.error());

  CronRuleInput input;
  input.now = os.Now();
  input.critical_failure_streak = options_.critical_failure_streak;
  input.output_dir = DisplayPath(context.hermes, DirName(path) + "/output");
  CheckResult result = EvaluateCronJobs(*parsed, input);
  for (auto& [key, value] : details.items()) result.details[key] = value;
  if (symlink) {
    result.details["notes"].push_back(shown + " is a symlink; followed");
  }
  AddTickerHeartbeat(context, DirName(path), result.details);
  return result;
}

}  // namespace

std::unique_ptr<Collector> MakeCronCheck(CronOptions options) {
  return std::make_unique<CronCheck>(std::move(options));
}

}  // namespace fleet
