// TempDir: a fresh directory under $TMPDIR (or /tmp) removed with everything in it when
// the object goes away. WriteFile creates parent directories.
#pragma once

#include <string>
#include <string_view>

namespace fleet::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Absolute path of `relative` inside the directory.
  std::string Path(std::string_view relative) const;
  // Writes content to `relative` (parents created) and returns the absolute path.
  std::string WriteFile(std::string_view relative, std::string_view content,
                        unsigned mode = 0644) const;

 private:
  std::string path_;
};

// Reads a file under tests/data.
std::string ReadTestData(std::string_view relative);

}  // namespace fleet::testing
