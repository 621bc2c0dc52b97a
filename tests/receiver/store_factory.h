// The stores the ingest-rule tests run against: every type in FLEET_RECEIVER_STORES makes a
// fresh, empty RecordStore (SQLite in a temp dir now; PostgreSQL joins the list later).
#pragma once

#include <memory>

#include "receiver/store/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace fleet::receiver::testing {

struct SqliteStoreMaker {
  static constexpr const char* kName = "sqlite";
  fleet::testing::TempDir dir;
  std::string path = dir.Path("receiver.db");

  std::unique_ptr<RecordStore> Make() {
    auto store = SqliteStore::Open(path, true);
    if (!store) throw std::runtime_error(store.error());
    return std::move(store).value();
  }
};

}  // namespace fleet::receiver::testing

#define FLEET_RECEIVER_STORES fleet::receiver::testing::SqliteStoreMaker
