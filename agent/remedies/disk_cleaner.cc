#include "agent/remedies/disk_cleaner.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

namespace fleet {
namespace {

constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxCandidates = 100000;

// A descriptor closed when it goes.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  Fd(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

struct Candidate {
  std::size_t rule = 0;
  std::vector<std::string> dirs;  // below the listed directory
  std::string name;
  dev_t dev = 0;
  ino_t ino = 0;
  std::int64_t mtime = 0;
  std::uint64_t bytes = 0;
};

std::optional<double> FreePercent(const std::string& path) {
  struct statvfs vfs {};
  if (statvfs(path.c_str(), &vfs) != 0) return std::nullopt;
  const double used = static_cast<double>(vfs.f_blocks - vfs.f_bfree);
  const double avail = static_cast<double>(vfs.f_bavail);
  if (used + avail <= 0) return std::nullopt;
  return 100.0 * avail / (used + avail);
}

Fd OpenDir(int at, const std::string& name) {
  return Fd(openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

class Walker {
 public:
  Walker(dev_t dev, std::int64_t cutoff, std::chrono::steady_clock::time_point deadline)
      : dev_(dev), cutoff_(cutoff), deadline_(deadline) {}

  void Walk(int fd, std::size_t rule, const std::string& glob, std::vector<std::string>& dirs) {
    if (Over()) return;
    const int copy = dup(fd);  // fdopendir takes it; closedir closes it
    if (copy < 0) return;
    DIR* dir = fdopendir(copy);
    if (dir == nullptr) {
      close(copy);
      return;
    }
    struct DirCloser {
      DIR* d;
      ~DirCloser() { closedir(d); }
    } closer{dir};
    while (dirent* entry = readdir(dir)) {
      if (Over()) return;
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISREG(st.st_mode)) {
        if (st.st_mtime > cutoff_ || fnmatch(glob.c_str(), name.c_str(), 0) != 0) continue;
        found.push_back({rule, dirs, name, st.st_dev, st.st_ino, st.st_mtime,
                         static_cast<std::uint64_t>(st.st_blocks) * 512});
      } else if (S_ISDIR(st.st_mode) && st.st_dev == dev_ && dirs.size() < kMaxDepth) {
        Fd sub = OpenDir(fd, name);
        struct stat opened {};
        if (!sub.ok() || fstat(sub.get(), &opened) != 0 || opened.st_dev != dev_ ||
            opened.st_ino != st.st_ino) {
          continue;  // replaced meanwhile, or a mount appeared: leave it
        }
        dirs.push_back(name);
        Walk(sub.get(), rule, glob, dirs);
        dirs.pop_back();
      }
    }
  }

  bool Over() const {
    return found.size() >= kMaxCandidates || std::chrono::steady_clock::now() >= deadline_;
  }

  std::vector<Candidate> found;

 private:
  dev_t dev_;
  std::int64_t cutoff_;
  std::chrono::steady_clock::time_point deadline_;
};

// Removes the candidate if it is still the same regular file: 0 when removed, -1 when it
// is not that file any more (left alone), else unlinkat's errno.
int Remove(const CleanRule& rule, const Candidate& c, dev_t dev) {
  Fd fd(open(rule.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  for (const auto& part : c.dirs) {
    if (!fd.ok()) return -1;
    fd = OpenDir(fd.get(), part);
  }
  if (!fd.ok()) return -1;
  struct stat st {};
  if (fstatat(fd.get(), c.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
  if (!S_ISREG(st.st_mode) || st.st_dev != dev || st.st_ino != c.ino) return -1;
  return unlinkat(fd.get(), c.name.c_str(), 0) == 0 ? 0 : errno;
}

std::string PathOf(const CleanRule& rule, const Candidate& c) {
  std::string path = rule.dir;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  for (const auto& part : c.dirs) path += "/" + part;
  return path + "/" + c.name;
}

}  // namespace

CleanReport CleanOldestFirst(const std::vector<CleanRule>& rules, const std::string& target,
                             double goal_free_percent, std::chrono::system_clock::time_point now,
                             std::chrono::steady_clock::time_point deadline) {
  CleanReport report;
  struct stat target_stat {};
  if (stat(target.c_str(), &target_stat) != 0) {
    report.problems.push_back("cannot look at " + target + ": " + std::strerror(errno));
    return report;
  }
  const dev_t dev = target_stat.st_dev;
  const auto free_now = FreePercent(target);
  report.free_percent = free_now.value_or(0);
  if (free_now && *free_now >= goal_free_percent) {
    report.reached = true;
    return report;
  }
  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::vector<Candidate> all;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const CleanRule& rule = rules[i];
    Fd fd(open(rule.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.ok()) {
      const int error = errno;
      if (error == ELOOP || error == ENOTDIR) {
        report.problems.push_back(rule.dir + " is a symlink or not a directory: left alone");
      } else {
        report.problems.push_back(rule.dir + ": " + std::strerror(error));
      }
      continue;
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0 || st.st_dev != dev) continue;  // another file system
    ++report.rules_on_target;
    Walker walker(dev, now_s - rule.older_than.count(), deadline);
    std::vector<std::string> dirs;
    walker.Walk(fd.get(), i, rule.glob, dirs);
    for (auto& c : walker.found) all.push_back(std::move(c));
  }
  std::set<std::size_t> told;  // rules whose removal failure was reported
  std::stable_sort(all.begin(), all.end(),
                   [](const Candidate& a, const Candidate& b) { return a.mtime < b.mtime; });
  for (const Candidate& c : all) {
    if (std::chrono::steady_clock::now() >= deadline) {
      report.timed_out = true;
      break;
    }
    const auto free = FreePercent(target);
    if (free && *free >= goal_free_percent) break;
    if (const int error = Remove(rules[c.rule], c, dev); error != 0) {
      if (error > 0 && !told.contains(c.rule)) {
        told.insert(c.rule);
        report.problems.push_back(
            "cannot remove files in " + rules[c.rule].dir + ": " + std::strerror(error) +
            (error == EROFS ? " (under the hardened unit, the remedies drop-in gives write "
                              "access: ReadWritePaths=)"
                            : ""));
      }
      continue;
    }
    report.removed.push_back({PathOf(rules[c.rule], c), c.bytes});
    report.bytes += c.bytes;
  }
  const auto free_after = FreePercent(target);
  report.free_percent = free_after.value_or(0);
  report.reached = free_after && *free_after >= goal_free_percent;
  return report;
}

}  // namespace fleet
