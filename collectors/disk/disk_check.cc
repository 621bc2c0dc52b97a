#include "collectors/disk/disk_check.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "base/units.h"

namespace fleet {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::uint64_t SaturatingProduct(std::uint64_t a, std::uint64_t b) {
  std::uint64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? kMax : product;
}

// df's Use%: used * 100 / (used + available), rounded up; in integers when they fit,
// else in double as df falls back to. nullopt where df prints "-".
std::optional<int> DfPercent(std::uint64_t used, std::uint64_t available) {
  const bool sum_overflows = available > kMax - used;
  if (!sum_overflows && used + available == 0) return std::nullopt;
  if (!sum_overflows && used <= kMax / 100) {
    const std::uint64_t u100 = used * 100;
    const std::uint64_t total = used + available;
    return static_cast<int>(u100 / total + (u100 % total != 0 ? 1 : 0));
  }
  // df computes this in double; so does the check, to print the same figure.
  const double pct = static_cast<double>(used) * 100 /
                     (static_cast<double>(used) + static_cast<double>(available));
  const auto whole = static_cast<long long>(pct);
  return static_cast<int>(whole + (static_cast<double>(whole) < pct ? 1 : 0));
}

// part / (part + rest) above or below `percent`, exactly (not on the rounded figure).
bool ShareAbove(std::uint64_t part, std::uint64_t rest, double percent) {
  const long double whole = static_cast<long double>(part) + static_cast<long double>(rest);
  return static_cast<long double>(part) * 100 > static_cast<long double>(percent) * whole;
}
bool ShareBelow(std::uint64_t part, std::uint64_t rest, double percent) {
  const long double whole = static_cast<long double>(part) + static_cast<long double>(rest);
  return static_cast<long double>(part) * 100 < static_cast<long double>(percent) * whole;
}

// "90%", "12.5%".
std::string FormatPercent(double percent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", percent);
  return buf;
}

template <typename T>
nlohmann::json OrNull(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

struct PathReport {
  std::string path;
  std::optional<DiskFigures> figures;  // nullopt when statvfs failed
  DiskVerdict verdict;
  std::string error;
};

// Where the advice points for old cron outputs: the Hermes home, "~" for the user's home.
std::string CronOutputHint(const HermesTarget& hermes) {
  std::string home = hermes.home.empty() ? "~/.hermes" : hermes.home;
  const std::string& user_home = hermes.user.home;
  if (!user_home.empty() && user_home != "/" && home.rfind(user_home + "/", 0) == 0) {
    home.replace(0, user_home.size(), 1, '~');
  }
  return home + "/cron/output";
}

std::string Advice(const PathReport& report, const HermesTarget& hermes) {
  const DiskVerdict& v = report.verdict;
  if (!report.figures) return "check checks.disk.paths";
  if (v.status == Status::kUnknown) return "this filesystem reports no size; watch another path";
  const std::string when = v.status == Status::kCritical ? "now" : "soon";
  if (!v.space_over && !v.space_low) {
    return "delete small files " + when + " (old cron outputs in " + CronOutputHint(hermes) +
           ", caches)";
  }
  return "free space " + when + " (old cron outputs in " + CronOutputHint(hermes) +
         ", logs, docker images)";
}

// One path's part of the summary: "/ 93% used (1.2 GiB free): over 90%".
std::string Describe(const PathReport& report, const DiskOptions& options) {
  if (!report.figures) return report.error;
  const DiskFigures& f = *report.figures;
  const DiskVerdict& v = report.verdict;
  if (!f.used_percent) return report.error;
  const std::string used = std::to_string(*f.used_percent) + "% used";
  const std::string free = FormatBytes(f.available_bytes) + " free";
  if (v.status == Status::kOk) return report.path + " " + used + ", " + free;
  std::string text = report.path + " " + used + " (" + free + ")";
  if ((v.inodes_over || v.inodes_low) && f.inodes_used_percent) {
    text += ", inodes " + std::to_string(*f.inodes_used_percent) + "% used";
  }
  std::vector<std::string> problems;
  if (v.space_over) {
    problems.push_back("over " + FormatPercent(options.critical_used_above));
  } else if (v.space_low) {
    problems.push_back("under " + FormatPercent(options.warning_free_below) + " free");
  }
  if (v.inodes_over) {
    problems.push_back("inodes over " + FormatPercent(options.critical_used_above));
  } else if (v.inodes_low) {
    problems.push_back("inodes under " + FormatPercent(options.warning_free_below) + " free");
  }
  for (std::size_t i = 0; i < problems.size(); ++i) text += (i ? ", " : ": ") + problems[i];
  return text;
}

nlohmann::json ToJson(const PathReport& report) {
  nlohmann::json out{{"path", report.path}};
  const DiskFigures f = report.figures.value_or(DiskFigures{});
  const bool have = report.figures.has_value();
  out["size_bytes"] = have ? nlohmann::json(f.size_bytes) : nlohmann::json(nullptr);
  out["used_bytes"] = have ? nlohmann::json(f.used_bytes) : nlohmann::json(nullptr);
  out["available_bytes"] = have ? nlohmann::json(f.available_bytes) : nlohmann::json(nullptr);
  out["used_percent"] = OrNull(f.used_percent);
  out["free_percent"] = OrNull(f.free_percent);
  out["inodes_total"] = OrNull(f.inodes_total);
  out["inodes_used"] = OrNull(f.inodes_used);
  out["inodes_free"] = OrNull(f.inodes_free);
  out["inodes_used_percent"] = OrNull(f.inodes_used_percent);
  out["status"] = StatusName(report.verdict.status);
  if (!report.error.empty()) out["error"] = report.error;
  return out;
}

class DiskCheck final : public Collector {
 public:
  explicit DiskCheck(DiskOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "disk"; }
  CheckResult Run(const CheckContext& context) override;

 private:
  PathReport Measure(const std::string& path, const CheckContext& context) const;

  DiskOptions options_;
};

PathReport DiskCheck::Measure(const std::string& configured, const CheckContext& context) const {
  PathReport report;
  report.path = ResolveInHome(context.hermes, configured);
  auto usage = context.os.StatVfs(report.path);
  if (!usage) {
    report.error = usage.error();
    report.verdict.status = Status::kUnknown;
    return report;
  }
  report.figures = ComputeDiskFigures(*usage);
  report.verdict = JudgeDisk(*report.figures, options_);
  if (report.verdict.status == Status::kUnknown) {
    report.error = report.path + ": the filesystem reports no size";
  }
  return report;
}

CheckResult DiskCheck::Run(const CheckContext& context) {
  nlohmann::json details{{"critical_used_above", options_.critical_used_above},
                         {"warning_free_below", options_.warning_free_below},
                         {"paths", nlohmann::json::array()}};
  if (options_.paths.empty()) {
    return MakeResult("disk", Status::kUnknown, "no paths to check (checks.disk.paths is empty)",
                      std::move(details));
  }
  std::vector<PathReport> reports;
  for (const auto& path : options_.paths) {
    reports.push_back(Measure(path, context));
    details["paths"].push_back(ToJson(reports.back()));
  }
  // The summary names the worst path first; equals keep the configured order.
  std::vector<const PathReport*> order;
  for (const auto& r : reports) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(), [](const PathReport* a, const PathReport* b) {
    return Severity(a->verdict.status) > Severity(b->verdict.status);
  });
  Status overall = Status::kOk;
  for (const auto& r : reports) overall = Worse(overall, r.verdict.status);
  std::string summary;
  for (const PathReport* r : order) {
    if (!summary.empty()) summary += "; ";
    summary += Describe(*r, options_);
    if (r == order.front() && r->verdict.status != Status::kOk) {
      summary += " — " + Advice(*r, context.hermes);
    }
  }
  return MakeResult("disk", overall, std::move(summary), std::move(details));
}

}  // namespace

DiskFigures ComputeDiskFigures(const FsUsage& usage) {
  DiskFigures f;
  if (usage.block_size != 0) {
    const std::uint64_t used_blocks =
        usage.total_blocks > usage.free_blocks ? usage.total_blocks - usage.free_blocks : 0;
    f.size_bytes = SaturatingProduct(usage.total_blocks, usage.block_size);
    f.used_bytes = SaturatingProduct(used_blocks, usage.block_size);
    f.available_bytes = SaturatingProduct(usage.available_blocks, usage.block_size);
    f.used_percent = DfPercent(used_blocks, usage.available_blocks);
    if (f.used_percent) f.free_percent = 100 - *f.used_percent;
  }
  if (usage.total_inodes != 0) {
    f.inodes_total = usage.total_inodes;
    f.inodes_used =
        usage.total_inodes > usage.free_inodes ? usage.total_inodes - usage.free_inodes : 0;
    f.inodes_free = usage.free_inodes;
    f.inodes_used_percent = DfPercent(*f.inodes_used, *f.inodes_free);
  }
  return f;
}

DiskVerdict JudgeDisk(const DiskFigures& figures, const DiskOptions& options) {
  DiskVerdict v;
  if (!figures.used_percent) {
    v.status = Status::kUnknown;
  } else {
    v.space_over =
        ShareAbove(figures.used_bytes, figures.available_bytes, options.critical_used_above);
    v.space_low =
        ShareBelow(figures.available_bytes, figures.used_bytes, options.warning_free_below);
  }
  if (figures.inodes_used_percent) {
    v.inodes_over =
        ShareAbove(*figures.inodes_used, *figures.inodes_free, options.critical_used_above);
    v.inodes_low =
        ShareBelow(*figures.inodes_free, *figures.inodes_used, options.warning_free_below);
  }
  if (v.space_over || v.inodes_over) {
    v.status = Status::kCritical;
  } else if (v.status != Status::kUnknown && (v.space_low || v.inodes_low)) {
    v.status = Status::kWarning;
  }
  return v;
}

std::unique_ptr<Collector> MakeDiskCheck(DiskOptions options) {
  return std::make_unique<DiskCheck>(std::move(options));
}

}  // namespace fleet
