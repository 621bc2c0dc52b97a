#include "receiver/registry/revocations.h"

namespace fleet::receiver {
namespace {

OperatorRevocation RowOf(const SqlRows& rows, int i) {
  return {rows.Text(i, 0), rows.Int(i, 1), rows.Text(i, 2)};
}

}  // namespace

std::string OperatorRevokedReason(const std::string& operator_id, const std::string& reason) {
  return "operator " + operator_id + " revoked: " + reason;
}

Result<OperatorRevoked> Revocations::RevokeOperator(const std::string& operator_id, std::int64_t at,
                                                    const std::string& reason) {
  OperatorRevoked out;
  auto done = InTransaction(link_, [&]() -> Outcome {
    auto before = Find(operator_id);
    if (!before) return Error{before.error()};
    out.already = before->has_value();
    out.revocation = before->value_or(OperatorRevocation{operator_id, at, reason});
    if (!out.already) {
      auto saved = link_.Run(
          "INSERT INTO operator_revocations (operator, revoked_at, reason) VALUES ($1, $2, $3)",
          {operator_id, at, reason});
      if (!saved) return Error{saved.error()};
    }
    // Every node of theirs, those added since a first revocation too, at the operator's time.
    auto nodes = link_.Run(
        "UPDATE nodes SET revoked_at = $2, revoke_reason = $3 "
        "WHERE operator = $1 AND revoked_at IS NULL",
        {operator_id, out.revocation.revoked_at,
         OperatorRevokedReason(operator_id, out.revocation.reason)});
    if (!nodes) return Error{nodes.error()};
    out.nodes_revoked = static_cast<int>(nodes->affected());
    return Success();
  });
  if (!done) return Error{done.error()};
  return out;
}

Result<std::optional<OperatorRevocation>> Revocations::Find(const std::string& operator_id) {
  auto rows =
      link_.Run("SELECT operator, revoked_at, reason FROM operator_revocations WHERE operator = $1",
                {operator_id});
  if (!rows) return Error{rows.error()};
  if (rows->empty()) return std::optional<OperatorRevocation>();
  return std::optional<OperatorRevocation>(RowOf(*rows, 0));
}

Result<std::vector<OperatorRevocation>> Revocations::All() {
  auto rows =
      link_.Run("SELECT operator, revoked_at, reason FROM operator_revocations ORDER BY operator");
  if (!rows) return Error{rows.error()};
  std::vector<OperatorRevocation> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(RowOf(*rows, i));
  return out;
}

}  // namespace fleet::receiver
