// RemediesSection: the `remedies:` keys of the configuration (issue 14) as schema tables:
// mode, gateway, tmux (sessions by name, each with its command; stuck_after), disk (above,
// the directories to clean, the operator's script), dispatch, limits. A directory is
// absolute or starts with `~` (the Hermes user's home, or `~user/`); relative ones, `..`,
// `/` itself and a directory right under `/` (`/home`, `/var`) are refused. The rules that
// need the rest of the file (a tmux session must be in checks.tmux.expect, a remedy's check
// must be enabled) are CheckRemedies', applied once everything is read. Part of
// ParseConfig; not thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/config/config_schema.h"

namespace fleet::config {

// Where the remedies' keys stood, for the rules across sections.
struct RemedyPositions {
  std::vector<std::pair<std::string, YAML::Node>> sessions;  // remedies.tmux.sessions keys
  YAML::Node gateway, tmux, disk, dispatch;                  // each remedy's section
};

// Reads a non-null `remedies:` map into `remedies`. Bound by reference: both must outlive
// the reader.
ValueReader RemediesSection(RemedySettings& remedies, RemedyPositions& positions);

// The rules across sections: each tmux session is an expected name of the tmux check, and
// each remedy's check is enabled.
void CheckRemedies(ConfigReader& reader, const AgentConfig& config,
                   const RemedyPositions& positions);

}  // namespace fleet::config
