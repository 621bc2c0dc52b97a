// DiskRemedy: frees a disk the disk check finds used above the line (remedies.disk.above,
// default the check's critical line). On the file system of each such path it removes old
// files from the listed directories, oldest first, until the free share is back at the
// check's warning line (DiskCleaner: no symlink followed, no other file system entered),
// listing what went (paths, bytes: the log has every path, the record the first ones and
// the totals). If that is not enough, or nothing is listed, the operator's script runs as
// the Hermes user (root drops to it) within script_timeout. A path the check could not
// measure is never acted on. The `~` of each listed directory is resolved when set up
// (ResolveCleanDir): a user that does not exist is a configuration error there.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/remedies/disk_cleaner.h"
#include "agent/remedies/remedy.h"
#include "base/result.h"
#include "core/collector.h"
#include "core/os.h"

namespace fleet {

struct DiskRemedyPlan {
  std::optional<double> above;  // none: the check's critical_used_above
  std::vector<CleanRule> rules;
  std::string script;
  std::chrono::seconds script_timeout{300};
};

class DiskRemedy final : public Remedy {
 public:
  DiskRemedy(DiskRemedyPlan plan, HermesTarget hermes, std::shared_ptr<const Os> os);
  std::string Check() const override { return "disk"; }
  RemedyPlan Plan(const CheckResult& result) const override;

 private:
  DiskRemedyPlan plan_;
  HermesTarget hermes_;
  std::shared_ptr<const Os> os_;
};

// "~/x" in the Hermes user's home, "~user/x" in that user's, "/x" as it is.
Result<std::string> ResolveCleanDir(const std::string& dir, const HermesTarget& hermes,
                                    const Os& os);

}  // namespace fleet
