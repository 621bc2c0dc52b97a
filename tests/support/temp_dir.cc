#include "tests/support/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fleet::testing {

namespace {

std::string TmpBase() {
  const char* base = std::getenv("TMPDIR");
  return base && *base ? base : "/tmp";
}

// The first of the current directory, /run and /var/cache that we may write in and that
// has no directory others may write to on its way from /.
std::string PrivateBase() {
  for (std::string base :
       {std::filesystem::current_path().string(), std::string("/run"), std::string("/var/cache")}) {
    if (::access(base.c_str(), W_OK) != 0) continue;
    bool shared = false;
    for (std::filesystem::path at = base;; at = at.parent_path()) {
      struct stat st {};
      if (::stat(at.c_str(), &st) != 0 || (st.st_mode & S_IWOTH) != 0) shared = true;
      if (shared || at == at.parent_path()) break;
    }
    if (!shared) return base;
  }
  throw std::runtime_error("no directory without a world-writable parent to test in");
}

}  // namespace

TempDir::TempDir() : TempDir(TmpBase()) {}

PrivateTempDir::PrivateTempDir() : TempDir(PrivateBase()) {}

TempDir::TempDir(const std::string& base) {
  std::string templ = base + "/fleet-test.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Make everything removable again (tests chmod 000 files and folders).
  for (auto it = std::filesystem::recursive_directory_iterator(
           path_, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
  }
  ::chmod(path_.c_str(), 0700);
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Path(std::string_view relative) const {
  return path_ + "/" + std::string(relative);
}

std::string TempDir::WriteFile(std::string_view relative, std::string_view content,
                               unsigned mode) const {
  std::string full = Path(relative);
  std::filesystem::create_directories(std::filesystem::path(full).parent_path());
  {
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  ::chmod(full.c_str(), mode);
  return full;
}

std::string ReadTestData(std::string_view relative) {
  std::ifstream in(std::string(FLEET_TEST_DATA) + "/" + std::string(relative), std::ios::binary);
  if (!in) throw std::runtime_error("missing test data: " + std::string(relative));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace fleet::testing
