// RepeatingErrorLog: logs an error the first time it happens and then stays quiet while
// the same error repeats, counting; when the error changes or clears, one line says how
// many times it repeated. Messages differing only in their numbers ("after 0 ms" and
// "after 3 ms", a byte count) are the same error. Keeps the journal readable when, say, the disk
// stays full for hours. Single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace fleet {

class RepeatingErrorLog {
 public:
  // `key` names the activity ("history write", "check tmux").
  void Report(const std::string& key, const std::string& message);
  void Clear(const std::string& key);
  std::uint64_t repeats(const std::string& key) const;
  // The message with every run of digits replaced by '#': what "the same error" compares.
  static std::string Shape(const std::string& message);

 private:
  struct Entry {
    std::string shape;
    std::uint64_t count = 0;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace fleet
