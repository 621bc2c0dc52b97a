// Runbook: the operator runbook's fix for what a check found, in one line, for the alert
// that tells of it (the receiver's `silent` alert included). The runbook's own words where
// it has them, corrected where it is wrong about a real Hermes node (the gateway's unit is
// hermes-gateway.service on Linux, not ai.hermes.gateway; cron results live in
// cron/jobs.json). Empty for a check it does not know. Pure.
#pragma once

#include <string>
#include <string_view>

namespace fleet::alerting {

std::string RunbookFix(std::string_view check);

}  // namespace fleet::alerting
