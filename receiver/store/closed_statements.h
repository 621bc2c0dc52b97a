// ClosedStatements: the closed months (closed_statements: the signed statement and the list
// of the records it used) and operators' wallets (operator_wallets), on SQLite or
// PostgreSQL with the same SQL (sql_link.h); the tables come with the store's schema
// (SQLite) or migration 12 (PostgreSQL). MonthRecords picks the records a month's statement
// reads, node by node: chained and acknowledged (at or below their epoch's watermark, as the
// report sources read them) and about the month: a heartbeat, task run or acknowledgement in
// it (acknowledgements from the earliest incident overlapping it to 30 minutes after its
// end), an incident overlapping it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/utc_time.h"
#include "receiver/registry/wallet.h"
#include "receiver/report/closed_statement.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

struct ClosedStatementRow {
  std::string month;  // YYYY-MM
  std::int64_t closed_at = 0;
  std::string receiver_kid;
  std::string jws;          // the signed document
  std::string record_list;  // RecordListText
};

class ClosedStatements {
 public:
  explicit ClosedStatements(SqlLink& link) : link_(link) {}

  Result<std::optional<ClosedStatementRow>> Find(const std::string& month);
  // False when the month was closed already (the stored one stays).
  Result<bool> Insert(const ClosedStatementRow& row);
  Result<std::vector<std::string>> Months();

  Result<std::vector<StatementRecord>> MonthRecords(const std::vector<std::string>& nodes,
                                                    const Period& month);
  // Every kid a node signed with (its first key and those it rotated to) -> base64url key.
  Result<std::map<std::string, std::string>> NodeKeys();

  Outcome SetWallet(const std::string& operator_id, const Wallet& wallet);
  Result<std::map<std::string, Wallet>> Wallets();

 private:
  SqlLink& link_;
};

}  // namespace fleet::receiver
