#include "agent/history/spool.h"

#include "agent/history/meta_table.h"

namespace fleet {

Result<std::unique_ptr<Spool>> Spool::Open(const std::string& state_dir) {
  const std::string path = state_dir + "/history.db";
  auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadWrite);
  if (!db) return Error{db.error()};
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto done = (*db)->Exec(pragma); !done) return Error{path + ": " + done.error()};
  }
  // The daemon creates the schema; the spool only opens what is there.
  auto probe = (*db)->Prepare("SELECT count(*) FROM records");
  if (!probe) return Error{path + ": no spool yet (" + probe.error() + ")"};
  return std::unique_ptr<Spool>(new Spool(std::move(db).value()));
}

Result<std::vector<SpooledRecord>> Spool::OldestBatch(std::size_t max_records,
                                                      std::size_t max_bytes) {
  auto stmt = db_->Prepare(
      "SELECT epoch, seq, jws FROM records WHERE jws IS NOT NULL AND epoch = "
      "(SELECT min(epoch) FROM records WHERE jws IS NOT NULL) ORDER BY seq LIMIT ?");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, static_cast<std::int64_t>(max_records));
  std::vector<SpooledRecord> batch;
  std::size_t bytes = 0;
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    SpooledRecord record{(*stmt)->Int(0), (*stmt)->Int(1), (*stmt)->Text(2)};
    if (!batch.empty() && bytes + record.jws.size() + 1 > max_bytes) break;
    bytes += record.jws.size() + 1;
    batch.push_back(std::move(record));
  }
  return batch;
}

Result<std::int64_t> Spool::Remove(std::int64_t epoch, std::int64_t first, std::int64_t last) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return Error{begun.error()};
  auto size = db_->Prepare(
      "SELECT count(*), coalesce(sum(length(CAST(coalesce(jws, payload) AS BLOB)) + 1), 0) "
      "FROM records WHERE epoch = ? AND seq BETWEEN ? AND ?");
  if (!size) return Error{size.error()};
  (*size)->Bind(1, epoch).Bind(2, first).Bind(3, last);
  if (auto row = (*size)->Step(); !row) return Error{row.error()};
  const std::int64_t count = (*size)->Int(0);
  const std::int64_t bytes = (*size)->Int(1);
  if (count == 0) return std::int64_t{0};
  auto del = db_->Prepare("DELETE FROM records WHERE epoch = ? AND seq BETWEEN ? AND ?");
  if (!del) return Error{del.error()};
  if (auto done = (*del)->Bind(1, epoch).Bind(2, first).Bind(3, last).Run(); !done) {
    return Error{done.error()};
  }
  auto spooled = ReadMetaInt(*db_, "spool_bytes", 0);
  if (!spooled) return Error{spooled.error()};
  const std::int64_t left = *spooled > bytes ? *spooled - bytes : 0;
  if (auto done = WriteMetaInt(*db_, "spool_bytes", left); !done) return Error{done.error()};
  if (auto done = tx.Commit(); !done) return Error{done.error()};
  return count;
}

Result<std::int64_t> Spool::StartNewEpoch(std::int64_t at_least) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return Error{begun.error()};
  auto epoch = ReadMetaInt(*db_, "epoch", 1);
  if (!epoch) return Error{epoch.error()};
  const std::int64_t next = std::max(*epoch + 1, at_least);
  if (auto done = WriteMetaInt(*db_, "epoch", next); !done) return Error{done.error()};
  if (auto done = WriteMetaInt(*db_, "next_seq", 1); !done) return Error{done.error()};
  if (auto done = db_->Exec("DELETE FROM meta WHERE key = 'prev_hash'"); !done) {
    return Error{done.error()};
  }
  if (auto done = tx.Commit(); !done) return Error{done.error()};
  return next;
}

Result<SpoolState> Spool::State() { return ReadSpoolState(*db_); }

Result<SpoolState> ReadSpoolState(SqliteDb& db) {
  SpoolState state;
  auto count = db.Prepare("SELECT count(*) FROM records");
  if (!count) return Error{count.error()};
  if (auto row = (*count)->Step(); !row) return Error{row.error()};
  state.records = (*count)->Int(0);
  for (auto [key, field, fallback] : {std::tuple{"spool_bytes", &state.bytes, std::int64_t{0}},
                                      std::tuple{"shed_records", &state.shed, std::int64_t{0}},
                                      std::tuple{"epoch", &state.epoch, std::int64_t{1}},
                                      std::tuple{"next_seq", &state.next_seq, std::int64_t{1}}}) {
    auto value = ReadMetaInt(db, key, fallback);
    if (!value) return Error{value.error()};
    *field = *value;
  }
  return state;
}

}  // namespace fleet
