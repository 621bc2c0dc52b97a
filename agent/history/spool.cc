#include "agent/history/spool.h"

#include "agent/history/meta_table.h"
#include "protocol/jws.h"
#include "protocol/records.h"

namespace fleet {

Result<std::unique_ptr<Spool>> Spool::Open(const std::string& state_dir) {
  auto key = LoadNodeKey(state_dir);
  if (!key) return Error{key.error()};
  return Open(state_dir, std::move(key).value());
}

Result<std::unique_ptr<Spool>> Spool::Open(const std::string& state_dir,
                                           std::optional<NodeKey> key) {
  const std::string path = state_dir + "/history.db";
  auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadWrite);
  if (!db) return Error{db.error()};
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto done = (*db)->Exec(pragma); !done) return Error{path + ": " + done.error()};
  }
  // The daemon creates the schema; the spool only opens what is there.
  auto probe = (*db)->Prepare("SELECT count(*) FROM records");
  if (!probe) return Error{path + ": no spool yet (" + probe.error() + ")"};
  return std::unique_ptr<Spool>(new Spool(std::move(db).value(), state_dir, std::move(key)));
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
      "SELECT count(*), coalesce(sum(length(CAST(coalesce(jws, payload) AS BLOB)) + 1), 0), "
      "coalesce(sum(type = 'key_rotate'), 0) FROM records WHERE epoch = ? AND seq BETWEEN ? AND ?");
  if (!size) return Error{size.error()};
  (*size)->Bind(1, epoch).Bind(2, first).Bind(3, last);
  if (auto row = (*size)->Step(); !row) return Error{row.error()};
  const std::int64_t count = (*size)->Int(0);
  const std::int64_t bytes = (*size)->Int(1);
  const bool key_moves = (*size)->Int(2) > 0;
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
  bool forget_keys = false;
  if (key_moves) {
    // The receiver took the move: once none waits, the keys moved from are not needed.
    auto waiting = db_->Prepare("SELECT count(*) FROM records WHERE type = 'key_rotate'");
    if (!waiting) return Error{waiting.error()};
    if (auto row = (*waiting)->Step(); !row) return Error{row.error()};
    forget_keys = (*waiting)->Int(0) == 0;
  }
  if (auto done = tx.Commit(); !done) return Error{done.error()};
  if (forget_keys) {
    if (auto forgot = ForgetRetiredNodeKeys(state_dir_); !forgot) return Error{forgot.error()};
  }
  return count;
}

namespace {

// Inside an open transaction: the next record takes seq 1 of max(current + 1, at_least).
Result<std::int64_t> CloseEpoch(SqliteDb& db, std::int64_t at_least) {
  auto epoch = ReadMetaInt(db, "epoch", 1);
  if (!epoch) return Error{epoch.error()};
  const std::int64_t next = std::max(*epoch + 1, at_least);
  if (auto done = WriteMetaInt(db, "epoch", next); !done) return Error{done.error()};
  if (auto done = WriteMetaInt(db, "next_seq", 1); !done) return Error{done.error()};
  if (auto done = db.Exec("DELETE FROM meta WHERE key = 'prev_hash'"); !done) {
    return Error{done.error()};
  }
  return next;
}

// Re-signs the records of `epoch` after `seq` (which can never be acknowledged, the chain
// being broken at `seq`) onto the end of the current epoch, in their order: each keeps its
// payload but takes the current epoch, the next seq and the chain's prev. In the caller's
// transaction. Returns how many moved.
Result<std::int64_t> Rechain(SqliteDb& db, NodeKeyRing& keys, std::int64_t epoch,
                             std::int64_t seq) {
  auto current = ReadMetaInt(db, "epoch", 1);
  if (!current) return Error{current.error()};
  auto next_seq = ReadMetaInt(db, "next_seq", 1);
  if (!next_seq) return Error{next_seq.error()};
  auto prev = ReadMeta(db, "prev_hash");
  if (!prev) return Error{prev.error()};
  std::string prev_hash = prev->value_or(GenesisHash());
  auto spooled = ReadMetaInt(db, "spool_bytes", 0);
  if (!spooled) return Error{spooled.error()};
  std::int64_t bytes = *spooled, moved = 0;
  auto read = db.Prepare(
      "SELECT seq, type, t, payload, length(CAST(coalesce(jws, payload) AS BLOB)) + 1, "
      "coalesce(jws, '') FROM records WHERE epoch = ? AND seq > ? ORDER BY seq LIMIT 500");
  auto insert =
      db.Prepare("INSERT INTO records(epoch, seq, type, t, payload, jws) VALUES(?,?,?,?,?,?)");
  auto remove = db.Prepare("DELETE FROM records WHERE epoch = ? AND seq = ?");
  if (!read) return Error{read.error()};
  if (!insert) return Error{insert.error()};
  if (!remove) return Error{remove.error()};
  for (std::int64_t after = seq;;) {
    struct Row {
      std::int64_t seq, t, size;
      std::string type, payload, jws;
    };
    std::vector<Row> rows;
    (*read)->Reset();
    (*read)->Bind(1, epoch).Bind(2, after);
    for (;;) {
      auto step = (*read)->Step();
      if (!step) return Error{step.error()};
      if (!*step) break;
      rows.push_back({(*read)->Int(0), (*read)->Int(2), (*read)->Int(4), (*read)->Text(1),
                      (*read)->Text(3), (*read)->Text(5)});
    }
    if (rows.empty()) break;
    for (const Row& row : rows) {
      const std::int64_t new_seq = *next_seq + moved;
      auto moved_payload = protocol::MoveInChain(row.payload, *current, new_seq, prev_hash);
      if (!moved_payload) return Error{"a spooled record's payload is damaged"};
      const std::string& text = *moved_payload;
      // By the key that signed it (a key_rotate by the key it moves from, which the
      // receiver knows), while that key is kept; else by the current key.
      const NodeKey& key = keys.SignerOf(row.jws);
      const std::string jws = SignCompactJws(text, key.secret_key, key.kid);
      (*insert)->Reset();
      auto stored = (*insert)
                        ->Bind(1, *current)
                        .Bind(2, new_seq)
                        .Bind(3, std::string_view(row.type))
                        .Bind(4, row.t)
                        .Bind(5, std::string_view(text))
                        .Bind(6, std::string_view(jws))
                        .Run();
      if (!stored) return Error{stored.error()};
      (*remove)->Reset();
      if (auto gone = (*remove)->Bind(1, epoch).Bind(2, row.seq).Run(); !gone) {
        return Error{gone.error()};
      }
      bytes += static_cast<std::int64_t>(jws.size() + 1) - row.size;
      prev_hash = ChainHash(jws);
      ++moved;
      after = row.seq;
    }
  }
  if (moved == 0) return moved;
  if (auto done = WriteMetaInt(db, "spool_bytes", std::max<std::int64_t>(bytes, 0)); !done) {
    return Error{done.error()};
  }
  if (auto done = WriteMeta(db, "prev_hash", prev_hash); !done) return Error{done.error()};
  if (auto done = WriteMetaInt(db, "next_seq", *next_seq + moved); !done) {
    return Error{done.error()};
  }
  return moved;
}

}  // namespace

Result<std::int64_t> Spool::StartNewEpoch(std::int64_t at_least) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return Error{begun.error()};
  auto next = CloseEpoch(*db_, at_least);
  if (!next) return Error{next.error()};
  if (auto done = tx.Commit(); !done) return Error{done.error()};
  return *next;
}

Result<std::optional<std::int64_t>> Spool::SetAside(std::int64_t epoch, std::int64_t seq,
                                                    const std::string& reason, std::int64_t now) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return Error{begun.error()};
  auto size = db_->Prepare(
      "SELECT length(CAST(coalesce(jws, payload) AS BLOB)) + 1 FROM records "
      "WHERE epoch = ? AND seq = ?");
  if (!size) return Error{size.error()};
  (*size)->Bind(1, epoch).Bind(2, seq);
  auto row = (*size)->Step();
  if (!row) return Error{row.error()};
  if (!*row) return std::optional<std::int64_t>();  // gone already
  const std::int64_t bytes = (*size)->Int(0);
  (*size)->Reset();
  auto copy = db_->Prepare(
      "INSERT INTO refused_records(epoch, seq, type, t, payload, jws, reason, refused_at) "
      "SELECT epoch, seq, type, t, payload, jws, ?, ? FROM records WHERE epoch = ? AND seq = ?");
  if (!copy) return Error{copy.error()};
  if (auto done =
          (*copy)->Bind(1, std::string_view(reason)).Bind(2, now).Bind(3, epoch).Bind(4, seq).Run();
      !done) {
    return Error{done.error()};
  }
  auto del = db_->Prepare("DELETE FROM records WHERE epoch = ? AND seq = ?");
  if (!del) return Error{del.error()};
  if (auto done = (*del)->Bind(1, epoch).Bind(2, seq).Run(); !done) return Error{done.error()};
  auto spooled = ReadMetaInt(*db_, "spool_bytes", 0);
  if (!spooled) return Error{spooled.error()};
  const std::int64_t left = *spooled > bytes ? *spooled - bytes : 0;
  if (auto done = WriteMetaInt(*db_, "spool_bytes", left); !done) return Error{done.error()};
  auto current = ReadMetaInt(*db_, "epoch", 1);
  if (!current) return Error{current.error()};
  std::optional<std::int64_t> new_epoch;
  if (*current == epoch) {
    auto next = CloseEpoch(*db_, 0);
    if (!next) return Error{next.error()};
    new_epoch = *next;
  }
  if (key_) {
    // The current key is the one the history names, when a rotation came after Open.
    auto kid = ReadMeta(*db_, "node_kid");
    if (!kid) return Error{kid.error()};
    if (*kid && **kid != key_->kid) {
      auto found = FindNodeKey(state_dir_, **kid);
      if (!found) return Error{"the history names kid " + **kid + ": " + found.error()};
      key_ = std::move(found).value();
    }
    NodeKeyRing keys(state_dir_, *key_);
    if (auto moved = Rechain(*db_, keys, epoch, seq); !moved) return Error{moved.error()};
  }
  if (auto done = tx.Commit(); !done) return Error{done.error()};
  return new_epoch;
}

Result<SpoolState> Spool::State() { return ReadSpoolState(*db_); }

Result<SpoolState> ReadSpoolState(SqliteDb& db) {
  SpoolState state;
  auto count = db.Prepare("SELECT count(*) FROM records");
  if (!count) return Error{count.error()};
  if (auto row = (*count)->Step(); !row) return Error{row.error()};
  state.records = (*count)->Int(0);
  for (auto [key, field, fallback] :
       {std::tuple{"spool_bytes", &state.bytes, std::int64_t{0}},
        std::tuple{"shed_records", &state.shed, std::int64_t{0}},
        std::tuple{"oversized_records", &state.oversized, std::int64_t{0}},
        std::tuple{"epoch", &state.epoch, std::int64_t{1}},
        std::tuple{"next_seq", &state.next_seq, std::int64_t{1}}}) {
    auto value = ReadMetaInt(db, key, fallback);
    if (!value) return Error{value.error()};
    *field = *value;
  }
  // A history from before refused_records (read-only: `status` creates nothing) has none.
  auto table = db.Prepare(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'refused_records'");
  if (!table) return Error{table.error()};
  if (auto row = (*table)->Step(); !row) return Error{row.error()};
  if ((*table)->Int(0) == 0) return state;
  auto refused = db.Prepare(
      "SELECT (SELECT count(*) FROM refused_records), epoch, seq, type, reason, refused_at "
      "FROM refused_records ORDER BY refused_at DESC, epoch DESC, seq DESC LIMIT 1");
  if (!refused) return Error{refused.error()};
  auto row = (*refused)->Step();
  if (!row) return Error{row.error()};
  if (*row) {
    const SqliteStatement& r = **refused;
    state.refused = r.Int(0);
    state.last_refused = RefusedRecord{r.Int(1), r.Int(2), r.Text(3), r.Text(4), r.Int(5)};
  }
  return state;
}

}  // namespace fleet
