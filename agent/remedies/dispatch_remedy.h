// DispatchRemedy: a dispatch queue file the dispatch check found present but unparsable
// (empty or not valid JSON) is moved aside into <state_dir>/quarantine/ (kept, never
// deleted), so the Hermes watchdog recreates it; one the check saw through a symlink is
// not moved (a note says so). Just before, the file is opened again
// without following a symlink and parsed again (ParseDispatchFile): one that Hermes
// rewrote meanwhile, a symlink, or anything but a regular file under the size limit is
// left where it is. Across file systems (/tmp to /var/lib) the move is a copy (synced,
// size checked) then an unlink.
#pragma once

#include <string>

#include "agent/remedies/remedy.h"

namespace fleet {

class DispatchRemedy final : public Remedy {
 public:
  explicit DispatchRemedy(std::string state_dir);
  std::string Check() const override { return "dispatch"; }
  RemedyPlan Plan(const CheckResult& result) const override;

 private:
  std::string quarantine_;
};

}  // namespace fleet
