// DiskCheck: statvfs of each configured path, with figures exactly as coreutils df shows
// them (used = total - free; Use% = used / (used + available) rounded up, so reserved
// blocks count as neither; inodes as `df -i`: used = files - ffree). CRITICAL when the
// used share is above critical_used_above; WARNING when the free share (available /
// (used + available)) is below warning_free_below; inodes are judged by the same two
// thresholds unless the filesystem reports no inodes (btrfs, vfat). A path that cannot be
// read is UNKNOWN with the reason while the others are still judged; the check reports
// the worst. Relative paths are taken inside the Hermes home. The arithmetic is pure
// (ComputeDiskFigures, JudgeDisk) so tests feed it literal statvfs numbers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/collector.h"

namespace fleet {

struct DiskOptions {
  std::vector<std::string> paths{"/"};
  double warning_free_below = 15.0;   // percent
  double critical_used_above = 90.0;  // percent
};

// What df prints for one filesystem. Percentages are nullopt where df prints "-": no
// space at all (used + available is 0) or no inodes.
struct DiskFigures {
  std::uint64_t size_bytes = 0;               // df -B1 size
  std::uint64_t used_bytes = 0;               // df -B1 used
  std::uint64_t available_bytes = 0;          // df -B1 avail
  std::optional<int> used_percent;            // df Use%
  std::optional<int> free_percent;            // 100 - Use%
  std::optional<std::uint64_t> inodes_total;  // df -i Inodes; nullopt when 0
  std::optional<std::uint64_t> inodes_used;   // df -i IUsed
  std::optional<std::uint64_t> inodes_free;   // df -i IFree
  std::optional<int> inodes_used_percent;     // df -i IUse%
};

DiskFigures ComputeDiskFigures(const FsUsage& usage);

// Which thresholds the figures cross, judged on the exact shares (not the rounded
// percentages; for whole-number thresholds both agree with what df shows).
struct DiskVerdict {
  Status status = Status::kOk;  // kUnknown when there is no space to judge
  bool space_over = false;      // used share above critical_used_above
  bool space_low = false;       // free share below warning_free_below
  bool inodes_over = false;
  bool inodes_low = false;
};

DiskVerdict JudgeDisk(const DiskFigures& figures, const DiskOptions& options);

std::unique_ptr<Collector> MakeDiskCheck(DiskOptions options);

}  // namespace fleet
