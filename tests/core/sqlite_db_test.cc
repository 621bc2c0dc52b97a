// The SQLite wrapper (base/sqlite_db.h): every bind and step result reaches the caller.
#include "base/sqlite_db.h"

#include <doctest/doctest.h>

using namespace fleet;

TEST_CASE("a failed bind fails the statement's next step, with the parameter named") {
  auto db = SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWrite).value();
  REQUIRE(db->Exec("CREATE TABLE t (a INTEGER NOT NULL, b TEXT)").ok());
  auto insert = db->Prepare("INSERT INTO t (a, b) VALUES (?1, ?2)").value();
  // ?3 does not exist: the row must not be written with b silently NULL.
  auto done = insert->Bind(1, std::int64_t{7}).Bind(3, std::string_view("x")).Run();
  REQUIRE_FALSE(done.ok());
  CHECK(done.error() == "binding parameter 3: column index out of range");
  auto count = db->Prepare("SELECT count(*) FROM t").value();
  REQUIRE(count->Step().value());
  CHECK(count->Int(0) == 0);
  count->Reset();
  // After Reset the statement is usable again.
  CHECK(insert->Bind(1, std::int64_t{7}).Bind(2, std::string_view("x")).Run().ok());
  REQUIRE(count->Step().value());
  CHECK(count->Int(0) == 1);
}

TEST_CASE("step, exec and prepare errors are values") {
  auto db = SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWrite).value();
  REQUIRE(db->Exec("CREATE TABLE t (a INTEGER NOT NULL)").ok());
  CHECK_FALSE(db->Prepare("SELEC 1").ok());
  CHECK_FALSE(db->Exec("INSERT INTO nowhere VALUES (1)").ok());
  auto insert = db->Prepare("INSERT INTO t (a) VALUES (?1)").value();
  auto null = insert->BindNull(1).Run();
  REQUIRE_FALSE(null.ok());
  CHECK(null.error().find("NOT NULL") != std::string::npos);
}
