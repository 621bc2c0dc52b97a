#include "tests/support/fake_os.h"

namespace fleet::testing {

std::chrono::system_clock::time_point FakeEpoch() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1781352000));
}

FakeOs::FakeOs() : now(FakeEpoch()), real_(MakeLinuxOs()) {
  users["hermes"] = UserInfo{"hermes", 1000, 1000, "/home/hermes"};
}

Result<std::optional<std::string>> FakeOs::ReadFile(const std::string& path,
                                                    std::uint64_t max_bytes) const {
  if (!denied.empty() && path == denied) return Error{path + ": Permission denied"};
  return real_->ReadFile(path, max_bytes);
}

Result<std::optional<FileInfo>> FakeOs::Stat(const std::string& path, bool follow) const {
  auto info = real_->Stat(path, follow);
  auto owner = owners.find(path);
  if (info.ok() && *info && owner != owners.end()) (*info)->owner = owner->second;
  return info;
}

Result<FsUsage> FakeOs::StatVfs(const std::string& path) const {
  auto it = fs_usage.find(path);
  if (it != fs_usage.end()) return it->second;
  return real_->StatVfs(path);
}

Result<ProgramRun> FakeOs::RunProgram(const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout) const {
  programs_run.push_back(argv);
  programs_run_as.emplace_back();
  if (program) return program(argv);
  return real_->RunProgram(argv, timeout);
}

Result<ProgramRun> FakeOs::RunProgramAs(const UserInfo& user, const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout) const {
  programs_run.push_back(argv);
  programs_run_as.push_back(user.name);
  if (program) return program(argv);
  return real_->RunProgramAs(user, argv, timeout);
}

std::optional<std::string> FakeOs::GetEnv(const std::string& name) const {
  auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

std::optional<UserInfo> FakeOs::UserByName(const std::string& name) const {
  auto it = users.find(name);
  if (it == users.end()) return std::nullopt;
  return it->second;
}

std::optional<UserInfo> FakeOs::UserById(uid_t uid) const {
  for (const auto& [name, user] : users) {
    if (user.uid == uid) return user;
  }
  return std::nullopt;
}

}  // namespace fleet::testing
