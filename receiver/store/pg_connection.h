// PgConnection: one libpq connection whose failures are values. Every statement returns a
// Result; a failed one keeps its SQLSTATE (last_sqlstate()) so callers can tell a
// serialization failure or deadlock (worth retrying) from the rest, and Broken() says when
// the connection itself is gone (the server restarted, the backend was terminated): Reset()
// then reconnects with the same parameters. Server notices are dropped, never printed.
// Parameters travel as text. Not thread-safe: one user at a time, like the PGconn inside.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

struct pg_conn;
struct pg_result;

namespace fleet::receiver {

// The rows (or the command status) of one statement.
class PgResult {
 public:
  explicit PgResult(pg_result* result);
  int Rows() const;
  int Columns() const;
  bool IsNull(int row, int column) const;
  std::string Text(int row, int column) const;
  std::int64_t Int(int row, int column) const;
  // Rows inserted, updated or deleted by the statement.
  std::int64_t Affected() const;

 private:
  std::shared_ptr<pg_result> result_;
};

using PgParams = std::vector<std::string>;

// A one-dimensional array parameter in PostgreSQL's text form ({"a","b",NULL}), for a
// statement that takes a column of values at once (unnest($1::text[])). Every element is
// quoted, so any text (commas, braces, quotes, backslashes) goes through unchanged.
class PgArray {
 public:
  void AddText(std::string_view element);
  void AddInt(std::int64_t element) { AddText(std::to_string(element)); }
  void AddBool(bool element) { AddText(element ? "t" : "f"); }
  void AddNull();
  std::string Text() const { return text_ + "}"; }

 private:
  std::string text_ = "{";
};

class PgConnection {
 public:
  // conninfo: a postgresql:// URI or key=value text, as libpq takes it (connect_timeout
  // defaults to 10 s).
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // One or more statements without parameters.
  Result<PgResult> Exec(std::string_view sql);
  Result<PgResult> Exec(const std::string& sql, const PgParams& params);
  // The same with NULL parameters (nullopt), for statements that write NULL.
  Result<PgResult> ExecNullable(const std::string& sql,
                                const std::vector<std::optional<std::string>>& params);
  Outcome Prepare(const std::string& name, const std::string& sql);
  Result<PgResult> RunPrepared(const std::string& name, const PgParams& params);

  bool Broken() const;
  Outcome Reset();
  int BackendPid() const;
  // SQLSTATE of the last failed statement ("" when it failed without one: a lost connection).
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // 40001 (serialization failure) or 40P01 (deadlock detected).
  bool LastFailureIsRetryable() const;

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  Result<PgResult> Check(pg_result* result);

  pg_conn* conn_;
  std::string last_sqlstate_;
};

}  // namespace fleet::receiver
