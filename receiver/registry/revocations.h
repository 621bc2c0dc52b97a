// Revocations: operators leaving the program (the exit protocol), in the registry. Revoking an
// operator revokes every node of theirs not revoked already, at the same time and with the
// reason "operator <id> revoked: <reason>" (RecordStore::RevokeNode's rule: records a node
// signs after that time are refused, those before still count), and keeps the operator's
// revocation (no node is enrolled for them again). Revoking twice keeps the first time and
// reason; nodes added since are revoked too. One statement per step, in the caller's
// transaction or one of its own; the same SQL on SQLite and PostgreSQL (sql_link.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

struct OperatorRevocation {
  std::string operator_id;
  std::int64_t revoked_at = 0;  // unix seconds
  std::string reason;
};

struct OperatorRevoked {
  OperatorRevocation revocation;  // in effect (the first one when revoked before)
  bool already = false;           // it was revoked before this call
  int nodes_revoked = 0;          // nodes revoked by this call
};

class Revocations {
 public:
  explicit Revocations(SqlLink& link) : link_(link) {}

  // In a transaction of its own.
  Result<OperatorRevoked> RevokeOperator(const std::string& operator_id, std::int64_t at,
                                         const std::string& reason);
  Result<std::optional<OperatorRevocation>> Find(const std::string& operator_id);
  Result<std::vector<OperatorRevocation>> All();

 private:
  SqlLink& link_;
};

// The reason a node of a revoked operator carries.
std::string OperatorRevokedReason(const std::string& operator_id, const std::string& reason);

}  // namespace fleet::receiver
