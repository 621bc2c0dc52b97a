// Os: the narrow seam between checks and the machine (clock, files, statvfs, running a
// program, users). Collectors reach the OS only through it, so unit tests substitute a
// fake (tests/support/fake_os.h) and fault wrappers. Paths are passed through untouched
// except those under /proc, which are resolved against proc_root() so a fixture tree can
// stand in for /proc. LinuxOs is safe for concurrent use from several threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace fleet {

struct FileInfo {
  enum class Kind { kRegular, kDirectory, kSymlink, kSocket, kOther };
  Kind kind = Kind::kOther;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
  uid_t owner = 0;
  unsigned mode = 0;  // permission bits
};

// statvfs(3) figures; `used` as df computes it is (total - free), and df's Use% is
// used / (used + available) rounded up.
struct FsUsage {
  std::uint64_t block_size = 0;  // f_frsize
  std::uint64_t total_blocks = 0;
  std::uint64_t free_blocks = 0;       // f_bfree (includes root's reserve)
  std::uint64_t available_blocks = 0;  // f_bavail (what unprivileged users may use)
  std::uint64_t total_inodes = 0;
  std::uint64_t free_inodes = 0;
  std::uint64_t available_inodes = 0;
};

struct ProgramRun {
  int exit_code = -1;      // -1 when killed by a signal or timed out
  bool timed_out = false;  // killed at the deadline
  std::string out;
  std::string err;
};

struct UserInfo {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

class Os {
 public:
  virtual ~Os() = default;

  virtual std::chrono::system_clock::time_point Now() const = 0;

  // The file's content; nullopt when it does not exist (a missing file is data, not an
  // error). Errors: permission denied, a directory, larger than max_bytes, I/O errors.
  virtual Result<std::optional<std::string>> ReadFile(const std::string& path,
                                                      std::uint64_t max_bytes) const = 0;
  // nullopt when nothing is there. follow=false describes a symlink itself (lstat).
  virtual Result<std::optional<FileInfo>> Stat(const std::string& path,
                                               bool follow = true) const = 0;
  virtual Result<FsUsage> StatVfs(const std::string& path) const = 0;
  // The absolute path with every symlink resolved (realpath(3)); nullopt when it does not
  // exist (a dangling link included).
  virtual Result<std::optional<std::string>> RealPath(const std::string& path) const = 0;
  // Runs argv[0] (looked up in PATH) with argv, stdin from /dev/null, capturing stdout
  // and stderr (each capped at 1 MiB), killing it (SIGKILL) at the timeout.
  virtual Result<ProgramRun> RunProgram(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout) const = 0;
  // The same, as `user` (its uid, gid and supplementary groups, HOME, USER, LOGNAME, PATH
  // and locale only; root drops to it and keeps no capability). An error, and nothing
  // run, when the switch fails: a program meant for a user never runs as root by mistake.
  virtual Result<ProgramRun> RunProgramAs(const UserInfo& user,
                                          const std::vector<std::string>& argv,
                                          std::chrono::milliseconds timeout) const = 0;
  virtual std::optional<std::string> GetEnv(const std::string& name) const = 0;
  virtual std::optional<UserInfo> UserByName(const std::string& name) const = 0;
  virtual std::optional<UserInfo> UserById(uid_t uid) const = 0;
  virtual uid_t EffectiveUid() const = 0;
  // "/proc" on a real machine.
  virtual std::string ProcRoot() const = 0;
};

// The real machine. proc_root lets integration tests point /proc lookups elsewhere.
std::unique_ptr<Os> MakeLinuxOs(std::string proc_root = "/proc");

}  // namespace fleet
