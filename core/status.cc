#include "core/status.h"

namespace fleet {

int Severity(Status status) {
  switch (status) {
    case Status::kOk:
      return 0;
    case Status::kWarning:
      return 1;
    case Status::kUnknown:
      return 2;
    case Status::kCritical:
      return 3;
  }
  return 2;
}

std::string_view StatusName(Status status) {
  switch (status) {
    case Status::kOk:
      return "ok";
    case Status::kWarning:
      return "warning";
    case Status::kCritical:
      return "critical";
    case Status::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view StatusLabel(Status status) {
  switch (status) {
    case Status::kOk:
      return "OK";
    case Status::kWarning:
      return "WARNING";
    case Status::kCritical:
      return "CRITICAL";
    case Status::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::optional<Status> ParseStatus(std::string_view name) {
  for (Status s : {Status::kOk, Status::kWarning, Status::kCritical, Status::kUnknown}) {
    if (StatusName(s) == name) return s;
  }
  return std::nullopt;
}

Status Worse(Status a, Status b) { return Severity(a) >= Severity(b) ? a : b; }

int NagiosExitCode(Status status) { return static_cast<int>(status); }

}  // namespace fleet
