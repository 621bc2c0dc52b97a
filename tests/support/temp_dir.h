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

 protected:
  explicit TempDir(const std::string& base);

 private:
  std::string path_;
};

// A TempDir with no directory others may write to on its way from / (under the current
// directory, else /run or /var/cache), for tests of what is trusted below /tmp.
class PrivateTempDir : public TempDir {
 public:
  PrivateTempDir();
};

// Reads a file under tests/data.
std::string ReadTestData(std::string_view relative);

}  // namespace fleet::testing
