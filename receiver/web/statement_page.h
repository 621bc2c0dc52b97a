// StatementPage: one operator's payout statement for a month (GET /statements/OP/YYYY-MM),
// as CSV and JSON downloads (.csv, .json: report_format.h StatementToCsv/StatementToJson of
// that operator alone) and JSON (GET /v1/statements/OP/YYYY-MM). Every payout line with the
// figure that decided it: the base (paid nodes, measured of registered, left-out nodes), each
// bonus, the alerts and how each was answered, partner commissions (each referred operator's
// part), the total. The statement is computed as `fleet-receiver statement` computes it
// (ComputeUptime + ComputeStatement with the receiver's policy) from the operator's own nodes
// and, for a partner, those of the operators it referred (their figures decide its
// commissions); nothing of another operator is read. The current month is computed to date
// (up to the current minute) and says so; a future month, or an operator the viewer does not
// see, or one not registered, is 404. A closed month (closed_statements.h) says so, when and by
// which key, and shows the closed statement's figures for the operator next to today's
// recomputation (records that arrived since only adjust the next month).
#pragma once

#include <string>

#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

enum class StatementFormat {
  kHtml,  // the page
  kCsv,   // the .csv download
  kJson,  // the .json download
  kApi,   // /v1/statements: the same JSON, not as a download
};

// month: "YYYY-MM" (the router checked its shape).
HttpResponse StatementPage(WebReads& reads, const Viewer& viewer, const std::string& op,
                           const std::string& month, StatementFormat format);

}  // namespace fleet::receiver
