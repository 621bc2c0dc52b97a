#include "receiver/store/closed_statements.h"

namespace fleet::receiver {

Result<std::optional<ClosedStatementRow>> ClosedStatements::Find(const std::string& month) {
  auto rows = link_.Run(
      "SELECT month, closed_at, receiver_kid, jws, record_list FROM closed_statements "
      "WHERE month = $1",
      {month});
  if (!rows) return Error{rows.error()};
  if (rows->empty()) return std::optional<ClosedStatementRow>();
  return std::optional<ClosedStatementRow>(ClosedStatementRow{
      rows->Text(0, 0), rows->Int(0, 1), rows->Text(0, 2), rows->Text(0, 3), rows->Text(0, 4)});
}

Result<bool> ClosedStatements::Insert(const ClosedStatementRow& row) {
  auto done = link_.Run(
      "INSERT INTO closed_statements (month, closed_at, receiver_kid, jws, record_list) "
      "VALUES ($1, CAST($2 AS BIGINT), $3, $4, $5) ON CONFLICT (month) DO NOTHING",
      {row.month, row.closed_at, row.receiver_kid, row.jws, row.record_list});
  if (!done) return Error{done.error()};
  return done->affected() == 1;
}

Result<std::vector<std::string>> ClosedStatements::Months() {
  auto rows = link_.Run("SELECT month FROM closed_statements ORDER BY month");
  if (!rows) return Error{rows.error()};
  std::vector<std::string> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(rows->Text(i, 0));
  return out;
}

Result<std::vector<StatementRecord>> ClosedStatements::MonthRecords(
    const std::vector<std::string>& nodes, const Period& month) {
  static constexpr std::string_view kSql =
      "SELECT r.epoch, r.seq, r.jws, r.payload, r.hash, r.received_at FROM records r "
      "WHERE r.node = $1 AND EXISTS (SELECT 1 FROM watermarks w WHERE w.node = r.node "
      "AND w.epoch = r.epoch AND r.seq <= w.ack_seq) AND ("
      "EXISTS (SELECT 1 FROM heartbeats h WHERE h.node = r.node AND h.epoch = r.epoch "
      "AND h.seq = r.seq AND h.minute >= CAST($2 AS BIGINT) AND h.minute < CAST($3 AS BIGINT)) "
      "OR EXISTS (SELECT 1 FROM task_runs h WHERE h.node = r.node AND h.epoch = r.epoch "
      "AND h.seq = r.seq AND h.run_at >= CAST($2 AS BIGINT) AND h.run_at < CAST($3 AS BIGINT)) "
      "OR EXISTS (SELECT 1 FROM incidents h WHERE h.node = r.node AND h.epoch = r.epoch "
      "AND h.seq = r.seq AND h.opened < CAST($3 AS BIGINT) "
      "AND (h.closed IS NULL OR h.closed >= CAST($2 AS BIGINT))) "
      "OR EXISTS (SELECT 1 FROM acks h WHERE h.node = r.node AND h.epoch = r.epoch "
      "AND h.seq = r.seq AND h.at < CAST($4 AS BIGINT) AND h.at >= (SELECT "
      "COALESCE(MIN(i.opened), CAST($2 AS BIGINT)) FROM incidents i WHERE i.node = r.node "
      "AND i.opened < CAST($3 AS BIGINT) AND (i.closed IS NULL OR i.closed >= CAST($2 AS "
      "BIGINT))))) ORDER BY r.epoch, r.seq";
  std::vector<StatementRecord> out;
  for (const auto& node : nodes) {
    auto rows = link_.Run(kSql, {node, month.begin, month.end, month.end + 30 * 60});
    if (!rows) return Error{rows.error()};
    for (int i = 0; i < rows->size(); ++i) {
      out.push_back({node, rows->Int(i, 0), rows->Int(i, 1), rows->Text(i, 2), rows->Text(i, 3),
                     rows->Text(i, 4), rows->Int(i, 5)});
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> ClosedStatements::NodeKeys() {
  auto rows = link_.Run(
      "SELECT kid, public_key FROM nodes UNION ALL SELECT kid, public_key FROM node_keys");
  if (!rows) return Error{rows.error()};
  std::map<std::string, std::string> out;
  for (int i = 0; i < rows->size(); ++i) out[rows->Text(i, 0)] = rows->Text(i, 1);
  return out;
}

Outcome ClosedStatements::SetWallet(const std::string& operator_id, const Wallet& wallet) {
  auto done = link_.Run(
      "INSERT INTO operator_wallets (operator, address, chain, token) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (operator) DO UPDATE SET address = excluded.address, chain = excluded.chain, "
      "token = excluded.token",
      {operator_id, wallet.address, wallet.chain, wallet.token});
  if (!done) return Error{done.error()};
  return Success();
}

Result<std::map<std::string, Wallet>> ClosedStatements::Wallets() {
  auto rows = link_.Run("SELECT operator, address, chain, token FROM operator_wallets");
  if (!rows) return Error{rows.error()};
  std::map<std::string, Wallet> out;
  for (int i = 0; i < rows->size(); ++i) {
    out[rows->Text(i, 0)] = {rows->Text(i, 1), rows->Text(i, 2), rows->Text(i, 3)};
  }
  return out;
}

}  // namespace fleet::receiver
