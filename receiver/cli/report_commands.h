// The registry and report commands of fleet-receiver: operators and referrals (and the
// whole registry from one YAML file), `uptime --month` and `statement --month`, each as a
// table, --json or --csv. Exit codes as the rest of the CLI: 0, 1 runtime, 2 usage.
#pragma once

#include <string>

#include "receiver/core/live_arrival.h"

namespace fleet::receiver {

struct OperatorAddArgs {
  std::string db, id, name, since;
};
int RunOperatorsAdd(const OperatorAddArgs& args);
int RunOperatorsList(const std::string& db, bool json);

struct ReferralAddArgs {
  std::string db, partner, referred, date;
};
int RunReferralsAdd(const ReferralAddArgs& args);

int RunRegistryImport(const std::string& db, const std::string& yaml_file);

struct ReportArgs {
  std::string db;
  std::string month;             // YYYY-MM
  std::string format = "table";  // table, json, csv
  std::string live_within = std::to_string(kLiveWithinSeconds / 60) + "m";
  // count | ignore: late (spooled) up minutes toward the uptime bonus, and late
  // acknowledgements toward the alert bonus
  std::string late_minutes = "count";
};
int RunUptimeReport(const ReportArgs& args);
int RunStatement(const ReportArgs& args);

}  // namespace fleet::receiver
