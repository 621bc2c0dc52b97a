// The closed-statement commands of fleet-receiver: `statement close --month M` (freeze the
// month, signed with the receiver's key), `statement export --month M --out DIR`,
// `statement verify DIR-or-FILE`, `statement payouts --month M [--csv]`, `key show`; and
// what `statement --month M` prints for a closed month (the stored statement) and for the
// month after one (its adjustments). Exit codes as the rest of the CLI: 0, 1 runtime (or,
// for verify, a mismatch), 2 usage.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "receiver/cli/report_commands.h"

namespace fleet::receiver {

struct StatementCloseArgs {
  ReportArgs report;     // db, month, policy
  std::string key;       // receiver key file; empty: beside the SQLite database
  std::int64_t now = 0;  // 0: the clock
};
int RunStatementClose(const StatementCloseArgs& args);
// The month whose verification window (`window_s` after its end) passed last, when it is
// not closed yet: closed as RunStatementClose does (its output on stdout/stderr). 0 when it
// was closed now or already, or there is nothing to close (no operator); else its exit code.
// `serve --close-months` calls it every hour; two receivers closing at once store one.
int CloseDueMonth(const std::string& db, const std::string& key, std::int64_t window_s,
                  std::int64_t now);
// The month CloseDueMonth would close at `now` ("2026-11").
std::string DueMonth(std::int64_t window_s, std::int64_t now);
int RunStatementExport(const ReportArgs& args, const std::string& key, const std::string& out);
int RunStatementVerify(const std::string& path, const std::string& key_jwk_file);
int RunStatementPayouts(const ReportArgs& args);
int RunKeyShow(const std::string& db, const std::string& key);

// For `statement --month`: the stored statement when the month is closed (printed, exit
// code in the result), nullopt when it is not.
std::optional<int> PrintClosedStatement(const ReportArgs& args);
// The adjustments to the closed month before `month` (JSON {"month","lines","total"}), null
// when that month is not closed.
Result<nlohmann::json> AdjustmentsBefore(const ReportArgs& args);
// The adjustments as lines under a table statement (nothing for null).
void PrintAdjustmentsTable(const nlohmann::json& adjustments);
// The adjustments as CSV lines in the statement's columns (operator,item,detail,earned,amount):
// item "adjustment", detail "MONTH FIGURE: CLOSED -> NOW", and a line "adjustment_total";
// nothing for null.
std::string AdjustmentsCsv(const nlohmann::json& adjustments);

}  // namespace fleet::receiver
