// The stores the ingest-rule tests run against: every type in FLEET_RECEIVER_STORES makes a
// fresh, empty RecordStore: SQLite in a temp dir, and PostgreSQL in a fresh schema of the
// database at FLEET_TEST_PG_URL (ctest's fixture "pg" starts one: pg_fixture.sh). Without
// that server the test binary leaves out the <postgres> cases and says so (receiver_main.cc);
// PgUnavailable() gives the reason. Test names carry the store: "...<sqlite>", "...<postgres>".
#pragma once

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>
#include <unistd.h>

#include "receiver/store/pg_connection.h"
#include "receiver/store/postgres_store.h"
#include "receiver/store/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace fleet::receiver::testing {

struct SqliteStoreMaker {
  static constexpr const char* kName = "sqlite";
  fleet::testing::TempDir dir;
  std::string path = dir.Path("receiver.db");
  // The --db text of this database.
  std::string Db() const { return path; }

  std::unique_ptr<RecordStore> Make() {
    auto store = SqliteStore::Open(path, true);
    if (!store) throw std::runtime_error(store.error());
    return std::move(store).value();
  }
};

// Why the PostgreSQL tests cannot run here, or nothing when they can (checked once).
inline const std::optional<std::string>& PgUnavailable() {
  static const std::optional<std::string> why = []() -> std::optional<std::string> {
    const char* url = std::getenv("FLEET_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
      return "FLEET_TEST_PG_URL is unset (ctest starts a server: fixture pg, pg_fixture.sh)";
    }
    auto db = PgConnection::Connect(url);
    if (!db) return "no PostgreSQL server at FLEET_TEST_PG_URL: " + db.error();
    return std::nullopt;
  }();
  return why;
}

// url with the connection's search_path set to schema (a URI from FLEET_TEST_PG_URL).
inline std::string PgUrlWithSchema(const std::string& url, const std::string& schema) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

// A fresh schema in the test database, dropped afterwards; stores made here use it alone.
struct PostgresStoreMaker {
  static constexpr const char* kName = "postgres";
  std::string url;
  std::string schema;

  PostgresStoreMaker() {
    static std::atomic<int> counter{0};
    if (PgUnavailable()) throw std::runtime_error("PostgreSQL tests: " + *PgUnavailable());
    const char* base = std::getenv("FLEET_TEST_PG_URL");
    schema = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    url = PgUrlWithSchema(base, schema);
    auto db = Admin();
    auto made = db->Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
    if (!made) throw std::runtime_error(made.error());
  }
  ~PostgresStoreMaker() {
    auto db = PgConnection::Connect(std::getenv("FLEET_TEST_PG_URL"));
    if (db) (void)(*db)->Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  }
  PostgresStoreMaker(const PostgresStoreMaker&) = delete;
  PostgresStoreMaker& operator=(const PostgresStoreMaker&) = delete;

  // A connection of its own to the test schema (for looking at tables directly).
  std::unique_ptr<PgConnection> Admin() const {
    auto db = PgConnection::Connect(url);
    if (!db) throw std::runtime_error(db.error());
    return std::move(db).value();
  }
  std::unique_ptr<PostgresStore> MakePostgres() {
    auto store = PostgresStore::Open(url);
    if (!store) throw std::runtime_error(store.error());
    return std::move(store).value();
  }
  std::unique_ptr<RecordStore> Make() { return MakePostgres(); }
  std::string Db() const { return url; }
};

}  // namespace fleet::receiver::testing

TYPE_TO_STRING_AS("sqlite", fleet::receiver::testing::SqliteStoreMaker);
TYPE_TO_STRING_AS("postgres", fleet::receiver::testing::PostgresStoreMaker);

#define FLEET_RECEIVER_STORES \
  fleet::receiver::testing::SqliteStoreMaker, fleet::receiver::testing::PostgresStoreMaker
