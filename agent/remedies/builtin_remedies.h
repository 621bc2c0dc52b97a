// The built-in remedies, listed explicitly in one place (no self-registration), each made
// from the `remedies:` settings when enabled there. Setting them up may find what the YAML
// alone could not (a `~user` that does not exist): those are configuration errors, each
// with the file position of its key when known.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/remedies/remedy.h"
#include "base/result.h"
#include "core/collector.h"
#include "core/os.h"

namespace fleet {

struct RemedySetup {
  std::vector<std::unique_ptr<Remedy>> remedies;
  std::vector<ConfigError> errors;  // file is left empty: the caller knows it
};

// The directories the enabled remedies write to (the resolved remedies.disk.clean
// directories; with dispatch.quarantine_broken, the directory of each dispatch file), for
// the unit's drop-in: the hardened unit keeps everything else read-only.
Result<std::vector<std::string>> RemedyWritePaths(const AgentConfig& config,
                                                  const HermesTarget& hermes, const Os& os);

// The drop-in (fleet-agent.service.d/remedies.conf) giving exactly those write rights; an
// empty string when no enabled remedy writes.
std::string RemediesDropIn(const std::vector<std::string>& paths);

// The enabled remedies of `config`, for the Hermes installation `hermes`. `state_dir` is
// where quarantined files go.
RemedySetup MakeRemedies(const AgentConfig& config, std::shared_ptr<const HermesTarget> hermes,
                         std::shared_ptr<const Os> os);

}  // namespace fleet
