// FakeOs: the real machine's files (tests point paths at a TempDir fixture tree) with a
// controllable clock, environment, users, statvfs figures and scripted program runs.
// Records every program it was asked to run. Not thread-safe; one per test.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/os.h"

namespace fleet::testing {

class FakeOs : public Os {
 public:
  FakeOs();

  // Clock: starts at 2026-06-13T12:00:00Z; Tick moves it forward.
  std::chrono::system_clock::time_point now;
  void Tick(std::chrono::seconds by) { now += by; }

  std::map<std::string, std::string> env;
  std::map<std::string, UserInfo> users;  // by name
  uid_t euid = 1000;
  std::string proc_root = "/proc";
  std::map<std::string, FsUsage> fs_usage;  // by path; absent: real statvfs
  // Stat reports these owners for these paths (tests run as root and own every file).
  std::map<std::string, uid_t> owners;
  // Reads of this path fail with "Permission denied", as for a non-root agent (tests run
  // as root, which reads anything).
  std::string denied;
  // Answers RunProgram; absent: runs the real program.
  std::function<Result<ProgramRun>(const std::vector<std::string>&)> program;
  mutable std::vector<std::vector<std::string>> programs_run;
  // The user each program in programs_run was run as; empty for RunProgram (ourselves).
  mutable std::vector<std::string> programs_run_as;

  std::chrono::system_clock::time_point Now() const override { return now; }
  Result<std::optional<std::string>> ReadFile(const std::string& path,
                                              std::uint64_t max_bytes) const override;
  Result<std::optional<FileInfo>> Stat(const std::string& path, bool follow) const override;
  Result<FsUsage> StatVfs(const std::string& path) const override;
  Result<std::optional<std::string>> RealPath(const std::string& path) const override {
    return real_->RealPath(path);
  }
  Result<ProgramRun> RunProgram(const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout) const override;
  Result<ProgramRun> RunProgramAs(const UserInfo& user, const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout) const override;
  std::optional<std::string> GetEnv(const std::string& name) const override;
  std::optional<UserInfo> UserByName(const std::string& name) const override;
  std::optional<UserInfo> UserById(uid_t uid) const override;
  uid_t EffectiveUid() const override { return euid; }
  std::string ProcRoot() const override { return proc_root; }

 private:
  std::unique_ptr<Os> real_;
};

// 2026-06-13T12:00:00Z
std::chrono::system_clock::time_point FakeEpoch();

}  // namespace fleet::testing
