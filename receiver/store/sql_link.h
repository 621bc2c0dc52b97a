// SqlLink: one connection to the receiver's database, SQLite or PostgreSQL, for the tables
// both dialects read and write with the same SQL (the alerting tables, receiver/alerts/):
// parameters are written $1, $2, ... (SQLite reads them as ?1, ?2, ...), values are integers,
// text or NULL (no booleans: a flag is 0 or 1), and the statements keep to what both
// understand (ON CONFLICT ... DO UPDATE, RETURNING, CAST(... AS BIGINT) where a parameter's
// type is not clear from its column). One implementation of the alerting tables then serves
// both stores, with the same results by construction; the test suite runs it on both.
// Begin() takes SQLite's write lock at once (BEGIN IMMEDIATE), so a transaction never fails
// halfway on a lock, and waits at most the connection's busy timeout; on PostgreSQL a lost
// connection is reconnected before the next statement outside a transaction. Opening makes
// the alerting tables when missing (SQLite) or migrates the schema (PostgreSQL). Not
// thread-safe: one link per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace fleet::receiver {

using SqlValue = std::variant<std::monostate, std::int64_t, std::string>;  // monostate: NULL
using SqlParams = std::vector<SqlValue>;

// An optional as a parameter (nullopt: NULL).
SqlValue SqlOr(const std::optional<std::int64_t>& value);
SqlValue SqlOr(const std::optional<std::string>& value);

// The rows of one statement, every value as text (an integer as its decimal text), and how
// many rows it changed.
class SqlRows {
 public:
  int size() const { return static_cast<int>(rows_.size()); }
  bool empty() const { return rows_.empty(); }
  bool IsNull(int row, int column) const { return !rows_[row][column].has_value(); }
  std::string Text(int row, int column) const { return rows_[row][column].value_or(""); }
  std::int64_t Int(int row, int column) const;
  std::optional<std::int64_t> IntOr(int row, int column) const;
  std::optional<std::string> TextOr(int row, int column) const { return rows_[row][column]; }
  std::int64_t affected() const { return affected_; }

  // For the links.
  void AddRow(std::vector<std::optional<std::string>> row) { rows_.push_back(std::move(row)); }
  void set_affected(std::int64_t affected) { affected_ = affected; }

 private:
  std::vector<std::vector<std::optional<std::string>>> rows_;
  std::int64_t affected_ = 0;
};

class SqlLink {
 public:
  virtual ~SqlLink() = default;
  virtual Result<SqlRows> Run(std::string_view sql, const SqlParams& params = {}) = 0;
  virtual Outcome Begin() = 0;
  // A read-only transaction whose statements all see one snapshot (SQLite: a deferred
  // transaction; PostgreSQL: REPEATABLE READ READ ONLY). End it with Commit or Rollback.
  virtual Outcome BeginRead() = 0;
  virtual Outcome Commit() = 0;
  virtual void Rollback() = 0;  // nothing when no transaction is open
  virtual bool postgres() const = 0;
};

// db: a SQLite file (it must exist unless `create`) or a postgresql:// URI (open_store.h).
Result<std::unique_ptr<SqlLink>> OpenSqlLink(const std::string& db, bool create = false);

// Runs `body` in a transaction: committed when it succeeds, rolled back when it fails.
Outcome InTransaction(SqlLink& link, const std::function<Outcome()>& body);

}  // namespace fleet::receiver
