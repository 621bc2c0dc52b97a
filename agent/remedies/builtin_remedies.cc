#include "agent/remedies/builtin_remedies.h"

namespace fleet {

RemedySetup MakeRemedies(const AgentConfig& config, std::shared_ptr<const HermesTarget> hermes,
                         std::shared_ptr<const Os> os) {
  (void)config;
  (void)hermes;
  (void)os;
  return {};
}

}  // namespace fleet
