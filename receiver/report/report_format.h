// ReportFormat: the monthly uptime report and the payout statement as a table for people,
// JSON for scripts and CSV for spreadsheets (one row per node and per operator; one row
// per operator and line item). Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "receiver/report/statement.h"
#include "receiver/report/uptime_report.h"

namespace fleet::receiver {

nlohmann::json UptimeToJson(const MonthUptime& report, bool late_minutes_count);
std::string UptimeToCsv(const MonthUptime& report, bool late_minutes_count);
std::string UptimeToTable(const MonthUptime& report, bool late_minutes_count);

nlohmann::json StatementToJson(const MonthStatement& statement);
std::string StatementToCsv(const MonthStatement& statement);
std::string StatementToTable(const MonthStatement& statement);

}  // namespace fleet::receiver
