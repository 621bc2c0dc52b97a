// Collector: one thing the agent checks (tmux, gateway, disk, cron, dispatch). A collector
// is built from its options once and may be run many times; Run must not throw and must
// return within the context's deadline when it waits on a program or D-Bus (the runner
// still guards against one that does not). Collectors know only core/ and base/: never the
// scheduler, the spool or the network. Run may be called from a worker thread, but never
// concurrently on the same collector.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/check_result.h"
#include "core/os.h"

namespace fleet {

// Whose Hermes installation the checks look at, resolved once from the configuration
// (hermes.user, hermes.home) and the environment.
struct HermesTarget {
  UserInfo user;     // the operator user running Hermes
  std::string home;  // the Hermes home (HERMES_HOME or ~user/.hermes)
};

struct CheckContext {
  const Os& os;
  const HermesTarget& hermes;
  std::chrono::steady_clock::time_point deadline;

  std::chrono::milliseconds Remaining() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
  }
};

class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string Name() const = 0;
  virtual CheckResult Run(const CheckContext& context) = 0;
};

// Joins a relative path onto the Hermes home; absolute paths are kept.
std::string ResolveInHome(const HermesTarget& hermes, const std::string& path);
// The secret files beside the Hermes state (auth.json, .env, config.yaml), which the agent
// must never read or send.
bool IsHermesSecretFile(const std::string& path);

// Why a Hermes file the agent is about to read (the cron jobs file, a dispatch file) must
// not be read, or nullopt. Refused: a path that is, or resolves through symlinks to, a
// Hermes secret file; and a file in a directory others may write to (like /tmp, where the
// default dispatch queue lives) that is not owned by the Hermes user or root, or is reached
// through a symlink there that is not (any local user could have planted either). A path
// that does not exist is not refused here: the caller reports it missing. (What is
// checked here and what is then opened are not one operation; this closes planted files,
// not a race by someone who can already write in those directories.)
struct FileRefusal {
  std::string reason;  // "it resolves to /home/h/.hermes/.env, a Hermes secret file", ...
  bool secret = false;
};
std::optional<FileRefusal> RefuseUntrustedFile(const Os& os, const HermesTarget& hermes,
                                               const std::string& path);

// "~/.hermes/cron/jobs.json" when the path is inside the operator's home, for summaries.
std::string DisplayPath(const HermesTarget& hermes, const std::string& path);

}  // namespace fleet
