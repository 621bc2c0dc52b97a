// GatewayRemedy: restarts the gateway's systemd unit when the gateway check finds it
// failed or inactive, over D-Bus (RestartUnit, mode replace, waiting for the job), on the
// manager where the check found it (the system manager, or the Hermes user's). It reads
// only the check's details (source, unit name, manager, active state), never the machine.
// Not acted on: a unit systemd is restarting itself (activating, auto-restart), a masked
// one, a gateway without a unit (the pid/state-file case: nothing to restart, the note
// says so) and one found nowhere. A unit that hit systemd's start limit is reset first
// (UnitRestarter), within the agent's own limits.
#pragma once

#include <chrono>
#include <memory>

#include "agent/remedies/remedy.h"
#include "collectors/gateway/systemd_units.h"
#include "core/collector.h"

namespace fleet {

class GatewayRemedy final : public Remedy {
 public:
  GatewayRemedy(HermesTarget hermes, std::shared_ptr<UnitRestarter> restarter,
                std::chrono::seconds timeout);
  std::string Check() const override { return "gateway"; }
  RemedyPlan Plan(const CheckResult& result) const override;

 private:
  HermesTarget hermes_;
  std::shared_ptr<UnitRestarter> restarter_;
  std::chrono::seconds timeout_;
};

}  // namespace fleet
