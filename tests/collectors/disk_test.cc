#include <doctest/doctest.h>

#include <limits>

#include "collectors/disk/disk_check.h"
#include "tests/support/fake_os.h"

using namespace fleet;

namespace {

// statvfs numbers with 4 KiB blocks; free defaults to available (no root reserve).
FsUsage Blocks(std::uint64_t used, std::uint64_t available, std::uint64_t reserved = 0) {
  FsUsage u;
  u.block_size = 4096;
  u.total_blocks = used + available + reserved;
  u.free_blocks = available + reserved;
  u.available_blocks = available;
  u.total_inodes = 100000;
  u.free_inodes = 90000;
  u.available_inodes = 90000;
  return u;
}

FsUsage Inodes(std::uint64_t used, std::uint64_t free) {
  FsUsage u = Blocks(100, 900);
  u.total_inodes = used + free;
  u.free_inodes = free;
  u.available_inodes = free;
  return u;
}

DiskVerdict Judge(const FsUsage& usage, DiskOptions options = {}) {
  return JudgeDisk(ComputeDiskFigures(usage), options);
}

CheckResult RunDisk(const testing::FakeOs& os, std::vector<std::string> paths,
                    DiskOptions options = {}) {
  options.paths = std::move(paths);
  HermesTarget hermes{UserInfo{"hermes", 1000, 1000, "/home/hermes"}, "/home/hermes/.hermes"};
  CheckContext context{os, hermes, std::chrono::steady_clock::now() + std::chrono::seconds(2)};
  return MakeDiskCheck(options)->Run(context);
}

}  // namespace

TEST_CASE("figures are df's: bytes from blocks, Use% rounded up, root reserve excluded") {
  // df: Size 4096000, Used 3686400, Avail 204800, Use% 95 (900 / 950 = 94.7%).
  DiskFigures f = ComputeDiskFigures(Blocks(900, 50, 50));
  CHECK(f.size_bytes == 4096000);
  CHECK(f.used_bytes == 3686400);
  CHECK(f.available_bytes == 204800);
  CHECK(f.used_percent == 95);
  CHECK(f.free_percent == 5);
  CHECK(f.inodes_total == 100000u);
  CHECK(f.inodes_used == 10000u);
  CHECK(f.inodes_free == 90000u);
  CHECK(f.inodes_used_percent == 10);

  CHECK(ComputeDiskFigures(Blocks(1, 999)).used_percent == 1);  // 0.1% shows as 1%
  CHECK(ComputeDiskFigures(Blocks(0, 999)).used_percent == 0);
  CHECK(ComputeDiskFigures(Blocks(999, 1)).used_percent == 100);  // 99.9% shows as 100%
  CHECK(ComputeDiskFigures(Blocks(1000, 0)).used_percent == 100);
  CHECK(ComputeDiskFigures(Blocks(1000, 0)).free_percent == 0);
}

TEST_CASE("reserved blocks count as neither used nor available") {
  // 88% of the size is used, but of what users can reach (used + available) it is 92.6%:
  // df says 93% and so does the check, which is CRITICAL.
  FsUsage u = Blocks(880, 70, 50);
  DiskFigures f = ComputeDiskFigures(u);
  CHECK(f.used_percent == 93);
  CHECK(f.size_bytes > f.used_bytes + f.available_bytes);
  CHECK(Judge(u).status == Status::kCritical);
}

TEST_CASE("critical means used strictly above 90%") {
  DiskOptions options;
  options.warning_free_below = 5;                       // isolate the critical threshold
  DiskVerdict at = Judge(Blocks(9000, 1000), options);  // exactly 90.00%
  CHECK(ComputeDiskFigures(Blocks(9000, 1000)).used_percent == 90);
  CHECK_FALSE(at.space_over);
  CHECK(at.status == Status::kOk);
  DiskVerdict above = Judge(Blocks(9001, 999), options);  // 90.01%, df shows 91%
  CHECK(ComputeDiskFigures(Blocks(9001, 999)).used_percent == 91);
  CHECK(above.space_over);
  CHECK(above.status == Status::kCritical);
  // With the default thresholds exactly 90% used is 10% free: a warning, not critical.
  CHECK(Judge(Blocks(9000, 1000)).status == Status::kWarning);
}

TEST_CASE("warning means free strictly below 15%") {
  DiskVerdict at = Judge(Blocks(8500, 1500));  // exactly 15.00% free
  CHECK_FALSE(at.space_low);
  CHECK(at.status == Status::kOk);
  DiskVerdict below = Judge(Blocks(8501, 1499));  // 14.99% free
  CHECK(below.space_low);
  CHECK(below.status == Status::kWarning);
  DiskFigures f = ComputeDiskFigures(Blocks(8501, 1499));
  CHECK(f.used_percent == 86);
  CHECK(f.free_percent == 14);
}

TEST_CASE("thresholds from options, fractional ones too") {
  DiskOptions options;
  options.warning_free_below = 12.5;
  options.critical_used_above = 95;
  CHECK(Judge(Blocks(875, 125), options).status == Status::kOk);         // 12.5% free
  CHECK(Judge(Blocks(8751, 1249), options).status == Status::kWarning);  // 12.49% free
  CHECK(Judge(Blocks(950, 50), options).status == Status::kWarning);     // exactly 95%
  CHECK(Judge(Blocks(951, 49), options).status == Status::kCritical);
}

TEST_CASE("a filesystem of size zero has no percentages and is UNKNOWN") {
  FsUsage empty;
  empty.block_size = 4096;
  DiskFigures f = ComputeDiskFigures(empty);
  CHECK(f.size_bytes == 0);
  CHECK_FALSE(f.used_percent.has_value());
  CHECK_FALSE(f.free_percent.has_value());
  CHECK_FALSE(f.inodes_total.has_value());
  CHECK(JudgeDisk(f, {}).status == Status::kUnknown);

  FsUsage no_block_size = Blocks(10, 10);
  no_block_size.block_size = 0;
  CHECK_FALSE(ComputeDiskFigures(no_block_size).used_percent.has_value());
  CHECK(Judge(no_block_size).status == Status::kUnknown);
}

TEST_CASE("inodes are judged by the same thresholds") {
  CHECK(Judge(Inodes(8500, 1500)).status == Status::kOk);  // exactly 15% free
  DiskVerdict low = Judge(Inodes(8501, 1499));
  CHECK(low.inodes_low);
  CHECK_FALSE(low.space_low);
  CHECK(low.status == Status::kWarning);
  CHECK_FALSE(Judge(Inodes(9000, 1000)).inodes_over);  // exactly 90%
  DiskVerdict over = Judge(Inodes(9001, 999));
  CHECK(over.inodes_over);
  CHECK(over.status == Status::kCritical);
  CHECK(ComputeDiskFigures(Inodes(9001, 999)).inodes_used_percent == 91);
  CHECK(ComputeDiskFigures(Inodes(1, 1999)).inodes_used_percent == 1);
}

TEST_CASE("a filesystem without inodes (btrfs, vfat) has null inode figures, not judged") {
  FsUsage u = Blocks(100, 900);
  u.total_inodes = u.free_inodes = u.available_inodes = 0;
  DiskFigures f = ComputeDiskFigures(u);
  CHECK_FALSE(f.inodes_total.has_value());
  CHECK_FALSE(f.inodes_used.has_value());
  CHECK_FALSE(f.inodes_used_percent.has_value());
  DiskVerdict v = JudgeDisk(f, {});
  CHECK_FALSE(v.inodes_low);
  CHECK_FALSE(v.inodes_over);
  CHECK(v.status == Status::kOk);
}

TEST_CASE("nonsense statvfs numbers do not crash or overflow") {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  FsUsage huge;
  huge.block_size = 1 << 20;
  huge.total_blocks = kMax / 2;
  huge.free_blocks = kMax / 4;
  huge.available_blocks = kMax / 4;
  DiskFigures f = ComputeDiskFigures(huge);
  CHECK(f.size_bytes == kMax);  // saturates instead of wrapping
  CHECK(f.used_percent == 50);  // the floating-point path df falls back to
  CHECK(Judge(huge).status == Status::kOk);

  FsUsage free_above_total = Blocks(0, 10);
  free_above_total.free_blocks = 50;
  CHECK(ComputeDiskFigures(free_above_total).used_bytes == 0);
  FsUsage sum_overflows = huge;
  sum_overflows.available_blocks = kMax;
  CHECK(ComputeDiskFigures(sum_overflows).used_percent.has_value());
}

TEST_CASE("summary when critical: figures, threshold and what to do") {
  testing::FakeOs os;
  os.fs_usage["/"] = Blocks(4179300, 314573);  // 93% used, 1.2 GiB free
  CheckResult r = RunDisk(os, {"/"});
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary ==
        "/ 93% used (1.2 GiB free): over 90% — free space now (old cron outputs in "
        "~/.hermes/cron/output, logs, docker images)");
}

TEST_CASE("summary when OK, when low and when inodes run out") {
  testing::FakeOs os;
  os.fs_usage["/"] = Blocks(4295000, 20971520);  // 17% used, 80 GiB free
  os.fs_usage["/srv"] = Blocks(8700, 1300);
  os.fs_usage["/var"] = Inodes(9500, 500);
  CheckResult ok = RunDisk(os, {"/"});
  CHECK(ok.status == Status::kOk);
  CHECK(ok.summary == "/ 17% used, 80 GiB free");
  CheckResult low = RunDisk(os, {"/srv"});
  CHECK(low.status == Status::kWarning);
  CHECK(low.summary ==
        "/srv 87% used (5.1 MiB free): under 15% free — free space soon (old cron outputs in "
        "~/.hermes/cron/output, logs, docker images)");
  CheckResult inodes = RunDisk(os, {"/var"});
  CHECK(inodes.status == Status::kCritical);
  CHECK(inodes.summary ==
        "/var 10% used (3.5 MiB free), inodes 95% used: inodes over 90% — delete small files now "
        "(old cron outputs in ~/.hermes/cron/output, caches)");
  DiskOptions options;
  options.warning_free_below = 20;
  CHECK(RunDisk(os, {"/srv"}, options)
            .summary.rfind("/srv 87% used (5.1 MiB free): under 20% free", 0) == 0);
}

TEST_CASE("several paths: the worst first, each still reported, overall the worst") {
  testing::FakeOs os;
  os.fs_usage["/"] = Blocks(100, 900);
  os.fs_usage["/srv"] = Blocks(8700, 1300);
  os.fs_usage["/data"] = Blocks(950, 50);
  CheckResult r = RunDisk(os, {"/", "/srv", "/data"});
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.rfind("/data 95% used (200 KiB free): over 90% — free space now", 0) == 0);
  auto srv = r.summary.find("; /srv 87% used (5.1 MiB free): under 15% free; ");
  CHECK(srv != std::string::npos);
  CHECK(r.summary.find("/ 10% used, 3.5 MiB free") > srv);
  // Details keep the configured order, each with its own status.
  REQUIRE(r.details["paths"].size() == 3);
  CHECK(r.details["paths"][0]["path"] == "/");
  CHECK(r.details["paths"][0]["status"] == "ok");
  CHECK(r.details["paths"][1]["status"] == "warning");
  CHECK(r.details["paths"][2]["status"] == "critical");
  CHECK(r.details["paths"][2]["used_percent"] == 95);
  CHECK(r.details["paths"][2]["free_percent"] == 5);
}

TEST_CASE("a missing path is UNKNOWN with the reason; the other paths are still judged") {
  testing::FakeOs os;
  os.fs_usage["/"] = Blocks(100, 900);
  CheckResult r = RunDisk(os, {"/", "/nonexistent/fleet-agent-disk-test"});
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.rfind("/nonexistent/fleet-agent-disk-test: No such file or directory", 0) == 0);
  CHECK(r.summary.find("; / 10% used, 3.5 MiB free") != std::string::npos);
  const auto& missing = r.details["paths"][1];
  CHECK(missing["status"] == "unknown");
  CHECK(missing["used_percent"].is_null());
  CHECK(missing["size_bytes"].is_null());
  CHECK(missing["error"].get<std::string>().find("No such file or directory") != std::string::npos);
  CHECK(r.details["paths"][0]["status"] == "ok");
  CHECK(r.details["paths"][0]["size_bytes"] == 4096000);

  // A critical path outranks the unknown one.
  os.fs_usage["/"] = Blocks(950, 50);
  CheckResult worse = RunDisk(os, {"/nonexistent/fleet-agent-disk-test", "/"});
  CHECK(worse.status == Status::kCritical);
  CHECK(worse.summary.rfind("/ 95% used", 0) == 0);
}

TEST_CASE("details carry every figure, null where df prints '-'") {
  testing::FakeOs os;
  FsUsage no_inodes = Blocks(300, 700);
  no_inodes.total_inodes = no_inodes.free_inodes = no_inodes.available_inodes = 0;
  os.fs_usage["/boot/efi"] = no_inodes;
  CheckResult r = RunDisk(os, {"/boot/efi"});
  CHECK(r.status == Status::kOk);
  const auto& p = r.details["paths"][0];
  for (const char* key :
       {"path", "size_bytes", "used_bytes", "available_bytes", "used_percent", "free_percent",
        "inodes_total", "inodes_used", "inodes_used_percent", "status"}) {
    CHECK_MESSAGE(p.contains(key), key);
  }
  CHECK(p["used_bytes"] == 300 * 4096);
  CHECK(p["available_bytes"] == 700 * 4096);
  CHECK(p["used_percent"] == 30);
  CHECK(p["inodes_total"].is_null());
  CHECK(p["inodes_used_percent"].is_null());
  CHECK(r.details["critical_used_above"] == 90.0);
  CHECK(r.details["warning_free_below"] == 15.0);
}

TEST_CASE("relative paths are taken inside the Hermes home; no paths is UNKNOWN") {
  testing::FakeOs os;
  os.fs_usage["/home/hermes/.hermes/cron"] = Blocks(100, 900);
  CheckResult r = RunDisk(os, {"cron"});
  CHECK(r.status == Status::kOk);
  CHECK(r.details["paths"][0]["path"] == "/home/hermes/.hermes/cron");
  CHECK(RunDisk(os, {}).status == Status::kUnknown);
}

TEST_CASE("a size-zero filesystem among others is UNKNOWN with the reason") {
  testing::FakeOs os;
  os.fs_usage["/"] = Blocks(100, 900);
  FsUsage pseudo;
  pseudo.block_size = 4096;
  os.fs_usage["/proc"] = pseudo;
  CheckResult r = RunDisk(os, {"/", "/proc"});
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.rfind("/proc: the filesystem reports no size — ", 0) == 0);
  CHECK(r.details["paths"][1]["used_percent"].is_null());
  CHECK(r.details["paths"][1]["size_bytes"] == 0);
}
