#include "agent/daemon/state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fleet {

Outcome PrepareStateDir(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return Error{"state_dir '" + path + "' must be an absolute path"};
  }
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Error{"cannot create state_dir " + path + ": " + ec.message()};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error{"state_dir " + path + " is not a directory"};
  }
  ::chmod(path.c_str(), 0750);  // best effort: the directory may belong to someone else
  const std::string probe = path + "/.write-test";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{"state_dir " + path + " is not writable: " + std::strerror(errno)};
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return Success();
}

Outcome WriteFileAtomically(const std::string& path, std::string_view content) {
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Error{temp + ": " + std::strerror(errno)};
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return Error{temp + ": " + std::strerror(err)};
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Error{temp + ": " + std::strerror(err)};
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Error{path + ": " + std::strerror(err)};
  }
  return Success();
}

}  // namespace fleet
