// Status: the four Nagios states every check reports, and how they combine.
// Severity order (worst last): ok < warning < unknown < critical, so a node with one
// CRITICAL and one UNKNOWN check is CRITICAL. The numeric value is the Nagios exit code.
#pragma once

#include <optional>
#include <string_view>

namespace fleet {

enum class Status { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };

// "ok", "warning", "critical", "unknown".
std::string_view StatusName(Status status);
// "OK", "WARNING", "CRITICAL", "UNKNOWN".
std::string_view StatusLabel(Status status);
std::optional<Status> ParseStatus(std::string_view name);
// 0 (ok) .. 3 (critical), by the order above.
int Severity(Status status);
// The more severe of the two, by the order above.
Status Worse(Status a, Status b);
int NagiosExitCode(Status status);

}  // namespace fleet
