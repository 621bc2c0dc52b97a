#include "receiver/store/sql_link.h"

#include <sqlite3.h>

#include <cstdlib>
#include <map>

#include "base/sqlite_db.h"
#include "receiver/store/alert_schema.h"
#include "receiver/store/open_store.h"
#include "receiver/store/pg_connection.h"
#include "receiver/store/postgres_store.h"
#include "receiver/store/sqlite_store.h"

namespace fleet::receiver {
namespace {

// $1, $2, ... as SQLite's ?1, ?2, ... (the statements hold no '$' elsewhere).
std::string SqliteText(std::string_view sql) {
  std::string out(sql);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

class SqliteLink final : public SqlLink {
 public:
  explicit SqliteLink(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  ~SqliteLink() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  }

  Result<SqlRows> Run(std::string_view sql, const SqlParams& params) override {
    sqlite3* db = db_->handle();
    auto [it, fresh] = cache_.try_emplace(std::string(sql), nullptr);
    if (fresh) {
      const std::string text = SqliteText(sql);
      if (sqlite3_prepare_v2(db, text.c_str(), -1, &it->second, nullptr) != SQLITE_OK) {
        std::string error = sqlite3_errmsg(db);
        cache_.erase(it);
        return Error{"sqlite: " + error};
      }
    }
    sqlite3_stmt* stmt = it->second;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* t = std::get_if<std::string>(&params[i])) {
        rc = sqlite3_bind_text(stmt, index, t->data(), static_cast<int>(t->size()),
                               SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) return Error{"sqlite: " + std::string(sqlite3_errmsg(db))};
    }
    SqlRows rows;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        std::string error = sqlite3_errmsg(db);
        sqlite3_reset(stmt);
        return Error{"sqlite: " + error};
      }
      std::vector<std::optional<std::string>> row;
      const int columns = sqlite3_column_count(stmt);
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
          row.emplace_back();
          continue;
        }
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row.emplace_back(
            std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
      }
      rows.AddRow(std::move(row));
    }
    rows.set_affected(sqlite3_changes(db));
    sqlite3_reset(stmt);
    return rows;
  }

  Outcome Begin() override {
    auto done = db_->Exec("BEGIN IMMEDIATE");
    open_ = done.ok();
    return done;
  }
  Outcome BeginRead() override {
    auto done = db_->Exec("BEGIN");
    open_ = done.ok();
    return done;
  }
  Outcome Commit() override {
    auto done = db_->Exec("COMMIT");
    if (done) open_ = false;
    return done;
  }
  void Rollback() override {
    if (open_) (void)db_->Exec("ROLLBACK");
    open_ = false;
  }
  bool postgres() const override { return false; }

 private:
  std::unique_ptr<SqliteDb> db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
  bool open_ = false;
};

class PostgresLink final : public SqlLink {
 public:
  explicit PostgresLink(std::unique_ptr<PgConnection> db) : db_(std::move(db)) {}

  Result<SqlRows> Run(std::string_view sql, const SqlParams& params) override {
    if (!open_ && db_->Broken()) {
      if (auto reset = db_->Reset(); !reset) return Error{reset.error()};
    }
    std::vector<std::optional<std::string>> texts;
    texts.reserve(params.size());
    for (const auto& p : params) {
      if (const auto* n = std::get_if<std::int64_t>(&p)) {
        texts.emplace_back(std::to_string(*n));
      } else if (const auto* t = std::get_if<std::string>(&p)) {
        texts.emplace_back(*t);
      } else {
        texts.emplace_back();
      }
    }
    auto result = db_->ExecNullable(std::string(sql), texts);
    if (!result) return Error{result.error()};
    SqlRows rows;
    for (int r = 0; r < result->Rows(); ++r) {
      std::vector<std::optional<std::string>> row;
      for (int c = 0; c < result->Columns(); ++c) {
        if (result->IsNull(r, c)) {
          row.emplace_back();
        } else {
          row.emplace_back(result->Text(r, c));
        }
      }
      rows.AddRow(std::move(row));
    }
    rows.set_affected(result->Affected());
    return rows;
  }

  Outcome Begin() override { return Start("BEGIN"); }
  Outcome BeginRead() override { return Start("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }
  Outcome Start(const char* begin) {
    if (db_->Broken()) {
      if (auto reset = db_->Reset(); !reset) return reset;
    }
    auto done = db_->Exec(begin);
    if (!done) return Error{done.error()};
    open_ = true;
    return Success();
  }
  Outcome Commit() override {
    auto done = db_->Exec("COMMIT");
    open_ = false;
    if (!done) return Error{done.error()};
    return Success();
  }
  void Rollback() override {
    if (open_) (void)db_->Exec("ROLLBACK");
    open_ = false;
  }
  bool postgres() const override { return true; }

 private:
  std::unique_ptr<PgConnection> db_;
  bool open_ = false;
};

}  // namespace

SqlValue SqlOr(const std::optional<std::int64_t>& value) {
  return value ? SqlValue(*value) : SqlValue();
}
SqlValue SqlOr(const std::optional<std::string>& value) {
  return value ? SqlValue(*value) : SqlValue();
}

std::int64_t SqlRows::Int(int row, int column) const {
  const auto& value = rows_[row][column];
  return value ? std::strtoll(value->c_str(), nullptr, 10) : 0;
}

std::optional<std::int64_t> SqlRows::IntOr(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Int(row, column);
}

Result<std::unique_ptr<SqlLink>> OpenSqlLink(const std::string& db, bool create) {
  if (IsPostgresUrl(db)) {
    // Opening the store creates or migrates the schema, the alerting tables included.
    if (auto store = PostgresStore::Open(db); !store) return Error{store.error()};
    auto conn = PgConnection::Connect(db);
    if (!conn) return Error{conn.error()};
    return std::unique_ptr<SqlLink>(new PostgresLink(std::move(conn).value()));
  }
  // The store's own schema first (the alerting queries read records and watermarks).
  if (auto store = SqliteStore::Open(db, create); !store) return Error{store.error()};
  auto opened = SqliteDb::Open(db, SqliteDb::Mode::kReadWrite);
  if (!opened) return Error{opened.error()};
  for (std::string_view pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto done = (*opened)->Exec(pragma); !done) return Error{db + ": " + done.error()};
  }
  if (auto made = (*opened)->Exec(kSqliteAlertTables); !made) {
    return Error{db + ": " + made.error()};
  }
  return std::unique_ptr<SqlLink>(new SqliteLink(std::move(opened).value()));
}

Outcome InTransaction(SqlLink& link, const std::function<Outcome()>& body) {
  if (auto begun = link.Begin(); !begun) return begun;
  auto done = body();
  if (!done) {
    link.Rollback();
    return done;
  }
  if (auto committed = link.Commit(); !committed) {
    link.Rollback();
    return committed;
  }
  return Success();
}

}  // namespace fleet::receiver
