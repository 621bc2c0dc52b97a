// LinuxOs: the real machine behind the Os seam.
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "agent/core/os.h"

extern char** environ;

namespace fleet {
namespace {

constexpr std::size_t kMaxProgramOutput = 1 << 20;

std::string ErrnoText(int err) { return std::strerror(err); }

FileInfo ToFileInfo(const struct stat& st) {
  FileInfo info;
  if (S_ISREG(st.st_mode)) {
    info.kind = FileInfo::Kind::kRegular;
  } else if (S_ISDIR(st.st_mode)) {
    info.kind = FileInfo::Kind::kDirectory;
  } else if (S_ISLNK(st.st_mode)) {
    info.kind = FileInfo::Kind::kSymlink;
  } else if (S_ISSOCK(st.st_mode)) {
    info.kind = FileInfo::Kind::kSocket;
  }
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.modified = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  info.owner = st.st_uid;
  info.mode = st.st_mode & 07777;
  return info;
}

std::optional<UserInfo> ToUserInfo(const struct passwd* pw) {
  if (pw == nullptr) return std::nullopt;
  return UserInfo{pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir ? pw->pw_dir : ""};
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

class LinuxOs final : public Os {
 public:
  explicit LinuxOs(std::string proc_root) : proc_root_(std::move(proc_root)) {}

  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }

  Result<std::optional<std::string>> ReadFile(const std::string& path,
                                              std::uint64_t max_bytes) const override {
    // O_NONBLOCK: a FIFO planted where a JSON file should be must not hang the check.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>{};
      return Error{path + ": " + ErrnoText(errno)};
    }
    FdCloser closer(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return Error{path + ": " + ErrnoText(errno)};
    if (S_ISDIR(st.st_mode)) return Error{path + ": is a directory"};
    if (!S_ISREG(st.st_mode)) return Error{path + ": not a regular file"};
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
      return Error{path + ": " + std::to_string(st.st_size) + " bytes, over the limit of " +
                   std::to_string(max_bytes)};
    }
    std::string content;
    content.resize(static_cast<std::size_t>(st.st_size));
    std::size_t have = 0;
    for (;;) {
      if (have == content.size()) {
        if (content.size() >= max_bytes) break;  // grew while reading; keep the limit
        content.resize(std::min<std::uint64_t>(max_bytes, content.size() + 4096));
      }
      ssize_t n = ::read(fd, content.data() + have, content.size() - have);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error{path + ": " + ErrnoText(errno)};
      }
      if (n == 0) break;
      have += static_cast<std::size_t>(n);
    }
    content.resize(have);
    return std::optional<std::string>(std::move(content));
  }

  Result<std::optional<FileInfo>> Stat(const std::string& path, bool follow) const override {
    struct stat st {};
    int rc = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
    if (rc != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<FileInfo>{};
      return Error{path + ": " + ErrnoText(errno)};
    }
    return std::optional<FileInfo>(ToFileInfo(st));
  }

  Result<FsUsage> StatVfs(const std::string& path) const override {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0) return Error{path + ": " + ErrnoText(errno)};
    FsUsage usage;
    usage.block_size = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;
    usage.total_blocks = vfs.f_blocks;
    usage.free_blocks = vfs.f_bfree;
    usage.available_blocks = vfs.f_bavail;
    usage.total_inodes = vfs.f_files;
    usage.free_inodes = vfs.f_ffree;
    usage.available_inodes = vfs.f_favail;
    return usage;
  }

  Result<ProgramRun> RunProgram(const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout) const override;

  std::optional<std::string> GetEnv(const std::string& name) const override {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  }

  std::optional<UserInfo> UserByName(const std::string& name) const override {
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buf[4096];
    if (::getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &found) != 0) return std::nullopt;
    return ToUserInfo(found);
  }

  std::optional<UserInfo> UserById(uid_t uid) const override {
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buf[4096];
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) != 0) return std::nullopt;
    return ToUserInfo(found);
  }

  uid_t EffectiveUid() const override { return ::geteuid(); }
  std::string ProcRoot() const override { return proc_root_; }

 private:
  std::string proc_root_;
};

// Reads whatever is ready on fd into out (up to the cap); false at EOF.
bool Drain(int fd, std::string& out) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      std::size_t room = kMaxProgramOutput - std::min(kMaxProgramOutput, out.size());
      out.append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

Result<ProgramRun> LinuxOs::RunProgram(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout) const {
  if (argv.empty()) return Error{"no program to run"};
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return Error{"pipe: " + ErrnoText(errno)};
  if (::pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return Error{"pipe: " + ErrnoText(errno)};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGHUP);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int spawn_rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  FdCloser out_closer(out_pipe[0]);
  FdCloser err_closer(err_pipe[0]);
  if (spawn_rc != 0) return Error{argv[0] + ": " + ErrnoText(spawn_rc)};

  ProgramRun run;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      break;
    }
    struct pollfd fds[2] = {{out_open ? out_pipe[0] : -1, POLLIN, 0},
                            {err_open ? err_pipe[0] : -1, POLLIN, 0}};
    int rc = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (rc < 0 && errno != EINTR) break;
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      out_open = Drain(out_pipe[0], run.out);
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      err_open = Drain(err_pipe[0], run.err);
    }
  }
  // Both pipes are closed or the deadline passed. A child that closed its output but
  // lingers is given until the deadline, then killed.
  int wstatus = 0;
  for (;;) {
    if (!run.timed_out && std::chrono::steady_clock::now() >= deadline) run.timed_out = true;
    if (run.timed_out) ::kill(pid, SIGKILL);
    pid_t done = ::waitpid(pid, &wstatus, run.timed_out ? 0 : WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) break;
    if (done == 0) ::usleep(500);
  }
  if (run.timed_out) {
    run.exit_code = -1;
  } else if (WIFEXITED(wstatus)) {
    run.exit_code = WEXITSTATUS(wstatus);
  }
  return run;
}

}  // namespace

std::unique_ptr<Os> MakeLinuxOs(std::string proc_root) {
  return std::make_unique<LinuxOs>(std::move(proc_root));
}

}  // namespace fleet
