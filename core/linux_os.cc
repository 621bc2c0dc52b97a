// LinuxOs: the real machine behind the Os seam.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/os.h"

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

  Result<std::optional<std::string>> RealPath(const std::string& path) const override {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (resolved == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>{};
      return Error{path + ": " + ErrnoText(errno)};
    }
    std::string out(resolved);
    std::free(resolved);
    return std::optional<std::string>(std::move(out));
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
  Result<ProgramRun> RunProgramAs(const UserInfo& user, const std::vector<std::string>& argv,
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

// argv[0] as execve needs it: a path, looked up in PATH when it has no slash.
Result<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view rest = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const std::size_t colon = std::min(rest.find(':'), rest.size());
    std::string dir(rest.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == rest.size()) break;
    rest.remove_prefix(colon + 1);
  }
  return Error{name + ": " + ErrnoText(ENOENT)};
}

// Everything the child needs, prepared before fork(): after it, in a process with other
// threads, the child may only make async-signal-safe calls (no malloc, no NSS).
struct ChildPlan {
  std::string program;
  std::vector<char*> argv;
  std::vector<std::string> env_storage;
  std::vector<char*> env;  // empty: inherit environ
  std::optional<UserInfo> user;
  std::vector<gid_t> groups;
};

Result<ChildPlan> PlanChild(const std::vector<std::string>& argv, const UserInfo* user) {
  if (argv.empty()) return Error{"no program to run"};
  auto program = FindProgram(argv[0]);
  if (!program.ok()) return Error{program.error()};
  ChildPlan plan;
  plan.program = *program;
  for (const auto& a : argv) plan.argv.push_back(const_cast<char*>(a.c_str()));
  plan.argv.push_back(nullptr);
  if (user == nullptr) return plan;
  plan.user = *user;
  int count = 32;
  plan.groups.resize(static_cast<std::size_t>(count));
  if (::getgrouplist(user->name.c_str(), user->gid, plan.groups.data(), &count) < 0) {
    plan.groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(user->name.c_str(), user->gid, plan.groups.data(), &count) < 0) {
      return Error{"cannot list the groups of " + user->name};
    }
  }
  plan.groups.resize(static_cast<std::size_t>(count));
  const char* path = std::getenv("PATH");
  plan.env_storage = {"PATH=" + std::string(path && *path ? path : "/usr/local/bin:/usr/bin:/bin"),
                      "HOME=" + user->home, "USER=" + user->name, "LOGNAME=" + user->name};
  for (const char* name : {"LANG", "LC_ALL", "LC_CTYPE"}) {
    if (const char* value = std::getenv(name))
      plan.env_storage.push_back(name + ("=" + std::string(value)));
  }
  for (auto& entry : plan.env_storage) plan.env.push_back(entry.data());
  plan.env.push_back(nullptr);
  return plan;
}

// In the child: tells the parent why it could not run the program, then exits.
[[noreturn]] void ChildFailed(int report_fd, char stage) {
  const int err = errno;
  char message[1 + sizeof err];
  message[0] = stage;
  std::memcpy(message + 1, &err, sizeof err);
  (void)!::write(report_fd, message, sizeof message);
  ::_exit(127);
}

[[noreturn]] void RunChild(const ChildPlan& plan, int out_fd, int err_fd, int report_fd) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    ChildFailed(report_fd, 'o');
  }
  if (plan.user) {
    if (::setgroups(plan.groups.size(), plan.groups.data()) != 0) ChildFailed(report_fd, 'g');
    if (::setresgid(plan.user->gid, plan.user->gid, plan.user->gid) != 0) {
      ChildFailed(report_fd, 'g');
    }
    if (::setresuid(plan.user->uid, plan.user->uid, plan.user->uid) != 0) {
      ChildFailed(report_fd, 'u');
    }
    // Never go on as anyone else (a seccomp filter answering EPERM is caught above).
    uid_t r, e, s;
    if (::getresuid(&r, &e, &s) != 0 || r != plan.user->uid || e != plan.user->uid ||
        s != plan.user->uid) {
      errno = EPERM;
      ChildFailed(report_fd, 'u');
    }
  }
  char* const* env = plan.env.empty() ? environ : plan.env.data();
  ::execve(plan.program.c_str(), plan.argv.data(), env);
  ChildFailed(report_fd, 'x');
}

// Starts the child; an error when it could not become the user or exec the program.
Result<pid_t> StartChild(const ChildPlan& plan, int out_fd, int err_fd) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Error{"pipe: " + ErrnoText(errno)};
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    return Error{"fork: " + ErrnoText(err)};
  }
  if (pid == 0) {
    ::close(report[0]);
    RunChild(plan, out_fd, err_fd, report[1]);
  }
  ::close(report[1]);
  char message[1 + sizeof(int)];
  ssize_t got;
  do {
    got = ::read(report[0], message, sizeof message);
  } while (got < 0 && errno == EINTR);
  ::close(report[0]);
  if (got <= 0) return pid;  // closed by a successful execve
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int err = 0;
  if (got == static_cast<ssize_t>(sizeof message)) std::memcpy(&err, message + 1, sizeof err);
  const std::string who = plan.user ? plan.user->name : "";
  switch (message[0]) {
    case 'g':
      return Error{"cannot take the groups of " + who + ": " + ErrnoText(err)};
    case 'u':
      return Error{"cannot become " + who + ": " + ErrnoText(err)};
    case 'x':
      return Error{plan.argv[0] + std::string(": ") + ErrnoText(err)};
    default:
      return Error{"cannot set up the program's input and output: " + ErrnoText(err)};
  }
}

Result<ProgramRun> RunPlanned(const ChildPlan& plan, std::chrono::milliseconds timeout) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return Error{"pipe: " + ErrnoText(errno)};
  if (::pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return Error{"pipe: " + ErrnoText(errno)};
  }
  Result<pid_t> started = StartChild(plan, out_pipe[1], err_pipe[1]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  FdCloser out_closer(out_pipe[0]);
  FdCloser err_closer(err_pipe[0]);
  if (!started.ok()) return Error{started.error()};
  const pid_t pid = *started;

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

Result<ProgramRun> LinuxOs::RunProgram(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout) const {
  auto plan = PlanChild(argv, nullptr);
  if (!plan.ok()) return Error{plan.error()};
  return RunPlanned(*plan, timeout);
}

Result<ProgramRun> LinuxOs::RunProgramAs(const UserInfo& user, const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout) const {
  auto plan = PlanChild(argv, &user);
  if (!plan.ok()) return Error{plan.error()};
  return RunPlanned(*plan, timeout);
}

}  // namespace

std::unique_ptr<Os> MakeLinuxOs(std::string proc_root) {
  return std::make_unique<LinuxOs>(std::move(proc_root));
}

}  // namespace fleet
