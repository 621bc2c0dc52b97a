// SqliteDb: a thin RAII wrapper over one SQLite connection and its prepared statements,
// turning SQLite's return codes into Outcome/Result values. Not thread-safe: one
// connection per thread. Busy waits are bounded by a busy timeout so a reader (say
// `fleet-agent status`) never blocks the daemon for long.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace fleet {

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement() { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  SqliteStatement& Bind(int index, std::int64_t value);
  SqliteStatement& Bind(int index, std::string_view value);
  SqliteStatement& Bind(int index, double value);
  SqliteStatement& BindNull(int index);
  SqliteStatement& Bind(int index, const std::optional<std::string>& value);

  // One step: true when a row is ready, false when done; errors as values. A Bind that
  // failed (no such parameter, a value too big) makes the next Step fail with its reason.
  Result<bool> Step();
  // Steps to the end (for statements without rows).
  Outcome Run();
  void Reset();

  std::int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  double Double(int column) const { return sqlite3_column_double(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string Text(int column) const;

 private:
  SqliteStatement& Checked(int index, int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::optional<std::string> bind_error_;  // the first failed Bind since Reset
};

class SqliteDb {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating for kReadWrite) the database file.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, Mode mode);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Outcome Exec(std::string_view sql);
  Result<std::unique_ptr<SqliteStatement>> Prepare(std::string_view sql);
  std::int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  std::string LastError() const { return sqlite3_errmsg(db_); }
  sqlite3* handle() { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// A transaction that rolls back unless committed.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDb& db) : db_(db) {}
  ~SqliteTransaction();
  Outcome Begin();  // BEGIN IMMEDIATE: take the write lock up front
  Outcome Commit();

 private:
  SqliteDb& db_;
  bool open_ = false;
};

}  // namespace fleet
