#include "base/sqlite_db.h"

#include <limits>

namespace fleet {

SqliteStatement& SqliteStatement::Checked(int index, int rc) {
  if (rc != SQLITE_OK && !bind_error_) {
    bind_error_ = "binding parameter " + std::to_string(index) + ": " + sqlite3_errstr(rc);
  }
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, std::int64_t value) {
  return Checked(index, sqlite3_bind_int64(stmt_, index, value));
}
SqliteStatement& SqliteStatement::Bind(int index, std::string_view value) {
  if (value.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return Checked(index, SQLITE_TOOBIG);
  }
  return Checked(index, sqlite3_bind_text(stmt_, index, value.data(),
                                          static_cast<int>(value.size()), SQLITE_TRANSIENT));
}
SqliteStatement& SqliteStatement::Bind(int index, double value) {
  return Checked(index, sqlite3_bind_double(stmt_, index, value));
}
SqliteStatement& SqliteStatement::BindNull(int index) {
  return Checked(index, sqlite3_bind_null(stmt_, index));
}
SqliteStatement& SqliteStatement::Bind(int index, const std::optional<std::string>& value) {
  return value ? Bind(index, std::string_view(*value)) : BindNull(index);
}

Result<bool> SqliteStatement::Step() {
  if (bind_error_) return Error{*bind_error_};
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error{sqlite3_errmsg(db_)};
}

Outcome SqliteStatement::Run() {
  for (;;) {
    auto row = Step();
    if (!row) {
      Reset();
      return Error{row.error()};
    }
    if (!*row) break;
  }
  Reset();
  return Success();
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_.reset();
}

std::string SqliteStatement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, Mode mode) {
  sqlite3* db = nullptr;
  int flags =
      SQLITE_OPEN_NOMUTEX |
      (mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error{path + ": " + message};
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Outcome SqliteDb::Exec(std::string_view sql) {
  char* message = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string error = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return Error{error};
  }
  return Success();
}

Result<std::unique_ptr<SqliteStatement>> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Error{sqlite3_errmsg(db_)};
  return std::make_unique<SqliteStatement>(db_, stmt);
}

SqliteTransaction::~SqliteTransaction() {
  if (open_) (void)db_.Exec("ROLLBACK");
}

Outcome SqliteTransaction::Begin() {
  auto done = db_.Exec("BEGIN IMMEDIATE");
  open_ = done.ok();
  return done;
}

Outcome SqliteTransaction::Commit() {
  auto done = db_.Exec("COMMIT");
  if (done.ok()) open_ = false;
  return done;
}

}  // namespace fleet
