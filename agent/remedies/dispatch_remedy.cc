#include "agent/remedies/dispatch_remedy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "collectors/dispatch/dispatch_file.h"

namespace fleet {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxBytes = 4 * 1024 * 1024;  // as the check: larger is never read

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string BaseName(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

RemedyDone Quarantine(const std::string& path, const std::string& quarantine) {
  Fd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ELOOP) return {false, path + " is a symlink: left where it is"};
    if (errno == ENOENT) return {false, path + " is gone already"};
    return {false, Errno("cannot open " + path)};
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return {false, Errno("cannot look at " + path)};
  if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) > kMaxBytes) {
    return {false, path + " is not a regular file under 4 MiB: left where it is"};
  }
  std::string content(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < content.size()) {
    const ssize_t n = read(fd.get(), content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  content.resize(got);
  if (ParseDispatchFile(content).ok()) {
    return {false, path + " parses now (rewritten meanwhile): left where it is"};
  }
  if (mkdir(quarantine.c_str(), 0700) != 0 && errno != EEXIST) {
    return {false, Errno("cannot make " + quarantine)};
  }
  const auto stamp = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const std::string aside = quarantine + "/" + BaseName(path) + "." + std::to_string(stamp);
  if (rename(path.c_str(), aside.c_str()) == 0) {
    return {true, "moved " + path + " (" + std::to_string(got) + " bytes) to " + aside};
  }
  if (errno != EXDEV) return {false, Errno("cannot move " + path + " to " + aside)};
  // Another file system: a copy, synced, then the original goes.
  Fd out(open(aside.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return {false, Errno("cannot create " + aside)};
  if (!WriteAll(out.get(), content) || fsync(out.get()) != 0) {
    unlink(aside.c_str());
    return {false, Errno("cannot write " + aside)};
  }
  struct stat again {};
  if (lstat(path.c_str(), &again) != 0 || again.st_ino != st.st_ino || again.st_dev != st.st_dev ||
      again.st_size != st.st_size || again.st_mtim.tv_sec != st.st_mtim.tv_sec ||
      again.st_mtim.tv_nsec != st.st_mtim.tv_nsec) {
    unlink(aside.c_str());
    return {false, path + " changed while being copied: left where it is"};
  }
  if (unlink(path.c_str()) != 0) {
    unlink(aside.c_str());
    return {false, Errno("cannot remove " + path)};
  }
  return {true, "moved " + path + " (" + std::to_string(got) + " bytes) to " + aside};
}

}  // namespace

DispatchRemedy::DispatchRemedy(std::string state_dir)
    : quarantine_(std::move(state_dir) + "/quarantine") {}

RemedyPlan DispatchRemedy::Plan(const CheckResult& result) const {
  RemedyPlan plan;
  auto files = result.details.find("files");
  if (files == result.details.end() || !files->is_array()) return plan;
  for (const json& f : *files) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string()) continue;
    const std::string path = f["path"].get<std::string>();
    const bool present = f.value("present", false);
    const bool parses = f.value("parses", false);
    const std::string problem = f.contains("problem") && f["problem"].is_string()
                                    ? f["problem"].get<std::string>()
                                    : std::string();
    const bool broken = present && !parses && f.contains("size_bytes") &&
                        (problem.find("not valid JSON") != std::string::npos ||
                         problem.find("the file is empty") != std::string::npos);
    if (!broken) {
      if (present && parses) plan.fine.push_back(path);
      continue;
    }
    if (f.value("symlink", false)) {  // whose file it is, is not ours to judge
      plan.bad.push_back(path);
      plan.note = "not moved aside: " + path + " is a symlink";
      continue;
    }
    RemedyTask task;
    task.target = path;
    task.action = protocol::RemedyAction::kQuarantineFile;
    task.what = "move the unparsable " + path + " aside into " + quarantine_;
    task.did = "moved the unparsable " + path + " aside into " + quarantine_;
    task.timeout = std::chrono::seconds(10);
    task.run = [path, quarantine = quarantine_](std::chrono::steady_clock::time_point) {
      return Quarantine(path, quarantine);
    };
    plan.tasks.push_back(std::move(task));
  }
  return plan;
}

}  // namespace fleet
