#include "receiver/store/postgres_store.h"

#include <algorithm>
#include <array>
#include <map>

#include "base/utc_time.h"
#include "receiver/store/postgres_schema.h"

namespace fleet::receiver {
namespace {

constexpr int kLockAttempts = 4;

struct Statement {
  const char* name;
  const char* sql;
};

constexpr std::array kStatements = {
    Statement{"insert_record",
              "INSERT INTO records (node, epoch, seq, type, t, prev, hash, payload, jws, "
              "received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
              "ON CONFLICT (node, epoch, seq) DO NOTHING"},
    Statement{"record_hash",
              "SELECT hash FROM records WHERE node = $1 AND epoch = $2 AND seq = $3"},
    Statement{"record_hashes",
              "SELECT seq, hash FROM records WHERE node = $1 AND epoch = $2 "
              "AND seq = ANY($3::bigint[])"},
    Statement{"insert_fork",
              "INSERT INTO forks (node, epoch, seq, hash, jws, received_at) "
              "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"},
    // The batch's lock: the row is made when missing (ack 0, read as no watermark), then locked.
    Statement{"make_mark",
              "INSERT INTO watermarks (node, epoch, ack_seq, ack_hash) VALUES ($1, $2, 0, '') "
              "ON CONFLICT (node, epoch) DO NOTHING"},
    Statement{"lock_mark",
              "SELECT ack_seq, ack_hash FROM watermarks WHERE node = $1 AND epoch = $2 FOR UPDATE"},
    Statement{"load_mark",
              "SELECT ack_seq, ack_hash FROM watermarks WHERE node = $1 AND epoch = $2"},
    Statement{"save_mark",
              "INSERT INTO watermarks (node, epoch, ack_seq, ack_hash) VALUES ($1, $2, $3, $4) "
              "ON CONFLICT (node, epoch) DO UPDATE SET ack_seq = excluded.ack_seq, "
              "ack_hash = excluded.ack_hash"},
    Statement{"links_from",
              "SELECT seq, prev, hash FROM records WHERE node = $1 AND epoch = $2 AND seq >= $3 "
              "ORDER BY seq LIMIT $4"},
    Statement{"missing_ranges",
              "SELECT before + 1, seq - 1 FROM (SELECT seq, LAG(seq, 1, $3::bigint) OVER "
              "(ORDER BY seq) AS before FROM records WHERE node = $1 AND epoch = $2 AND seq > $3) "
              "AS s WHERE seq > before + 1 ORDER BY seq LIMIT $4"},
    Statement{"max_epoch", "SELECT COALESCE(MAX(epoch), 0) FROM records WHERE node = $1"},
    Statement{"count_in_minute",
              "SELECT count(*) FROM records WHERE node = $1 AND t COLLATE \"C\" >= $2 "
              "AND t COLLATE \"C\" < $3"},
    Statement{"count_in_minutes",
              "SELECT b.minute, (SELECT count(*) FROM records WHERE node = $1 "
              "AND t COLLATE \"C\" >= b.lo AND t COLLATE \"C\" < b.hi) "
              "FROM unnest($2::bigint[], $3::text[], $4::text[]) AS b(minute, lo, hi)"},
    // A kid's key, the node's first or one it rotated to, with when the node moved on.
    Statement{"find_key",
              "SELECT n.node, k.kid, k.public_key, n.revoked_at, n.revoke_reason, r.since, r.kid "
              "FROM (SELECT node, kid, public_key FROM nodes WHERE kid = $1 "
              "UNION ALL SELECT node, kid, public_key FROM node_keys WHERE kid = $1) AS k "
              "JOIN nodes AS n ON n.node = k.node LEFT JOIN node_keys AS r ON r.old_kid = k.kid"},
    Statement{"find_node",
              "SELECT node, kid FROM nodes WHERE node = $1 OR kid = $2 "
              "UNION ALL SELECT node, kid FROM node_keys WHERE kid = $2"},
    Statement{"rotated_kid_taken",
              "SELECT node, old_kid FROM node_keys WHERE kid = $1 "
              "UNION ALL SELECT node, NULL FROM nodes WHERE kid = $1"},
    Statement{"old_kid_moved", "SELECT kid, since FROM node_keys WHERE old_kid = $1"},
    Statement{"add_rotated_key",
              "INSERT INTO node_keys (kid, node, public_key, old_kid, since, epoch, seq, "
              "added_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"},
    Statement{"rotated_keys",
              "SELECT node, old_kid, kid, public_key, since, epoch, seq, added_at FROM node_keys "
              "WHERE node = $1 ORDER BY added, kid"},
    Statement{"add_node",
              "INSERT INTO nodes (node, operator, kid, public_key, added_at) "
              "VALUES ($1, $2, $3, $4, $5)"},
    Statement{"list_nodes",
              "SELECT node, operator, kid, public_key, added_at, revoked_at, revoke_reason "
              "FROM nodes ORDER BY node COLLATE \"C\""},  // byte order, as SQLite
    Statement{"revoke_node",
              "UPDATE nodes SET revoked_at = COALESCE(revoked_at, $2), "
              "revoke_reason = CASE WHEN revoked_at IS NULL THEN $3 ELSE revoke_reason END "
              "WHERE node = $1"},
    Statement{"ping", "SELECT 1"},
};

std::string KeyText(const PublicKey& key) {
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

Result<PublicKey> KeyFromText(const std::string& text) {
  auto bytes = Base64UrlDecode(text);
  if (!bytes || bytes->size() != 32) return Error{"a stored public key is damaged"};
  PublicKey key{};
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

std::string Num(std::int64_t n) { return std::to_string(n); }

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo) {
  auto db = PgConnection::Connect(conninfo);
  if (!db) return Error{db.error()};
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(db).value()));
  auto version = ApplyMigrations(*store->db_);
  if (!version) return Error{version.error()};
  store->schema_version_ = *version;
  if (auto prepared = store->Prepare(); !prepared) return Error{prepared.error()};
  return store;
}

Outcome PostgresStore::Prepare() {
  for (const auto& statement : kStatements) {
    if (auto done = db_->Prepare(statement.name, statement.sql); !done) return done;
  }
  if (auto done = db_->Prepare("insert_records", BatchInsertSql()); !done) return done;
  for (const auto& [name, sql] : TypedRowStatements()) {
    if (auto done =
            db_->Prepare("stored_" + name, StoredWithTypedRowSql(kStatements[0].sql, name, 10));
        !done) {
      return done;
    }
  }
  return Success();
}

Outcome PostgresStore::EnsureConnected() {
  if (!db_->Broken()) return Success();
  in_transaction_ = false;
  locked_.clear();
  if (auto reset = db_->Reset(); !reset) return reset;
  return Prepare();
}

Result<PgResult> PostgresStore::RunAlone(const std::string& name, const PgParams& params) {
  if (auto connected = EnsureConnected(); !connected) return Error{connected.error()};
  auto result = db_->RunPrepared(name, params);
  if (result || !db_->Broken()) return result;
  // Lost since the last use (server restart, backend terminated): once more, reconnected.
  if (auto connected = EnsureConnected(); !connected) return Error{connected.error()};
  return db_->RunPrepared(name, params);
}

Result<PgResult> PostgresStore::RunInBatch(const std::string& name, const PgParams& params) {
  if (!in_transaction_) return Error{"postgresql: " + name + " outside a batch transaction"};
  return db_->RunPrepared(name, params);
}

Outcome PostgresStore::AddNode(const NodeEntry& entry) {
  auto taken = [&]() -> Outcome {
    auto found = RunAlone("find_node", {entry.node, entry.kid});
    if (!found) return Error{found.error()};
    if (found->Rows() == 0) return Success();
    if (found->Text(0, 0) == entry.node) return Error{"node " + entry.node + " already exists"};
    return Error{"key " + entry.kid + " is already registered to node " + found->Text(0, 0)};
  };
  if (auto free = taken(); !free) return free;
  auto added = RunAlone("add_node", {entry.node, entry.operator_id, entry.kid, KeyText(entry.key),
                                     Num(entry.added_at)});
  if (added) return Success();
  // Another receiver added it meanwhile: say which, as above.
  if (db_->last_sqlstate() == "23505") {
    if (auto free = taken(); !free) return free;
  }
  return Error{added.error()};
}

Result<std::vector<NodeEntry>> PostgresStore::ListNodes() {
  auto rows = RunAlone("list_nodes", {});
  if (!rows) return Error{rows.error()};
  std::vector<NodeEntry> nodes;
  for (int i = 0; i < rows->Rows(); ++i) {
    auto key = KeyFromText(rows->Text(i, 3));
    if (!key) return Error{key.error()};
    NodeEntry entry{rows->Text(i, 0),
                    rows->Text(i, 1),
                    rows->Text(i, 2),
                    *key,
                    rows->Int(i, 4),
                    std::nullopt,
                    ""};
    if (!rows->IsNull(i, 5)) entry.revoked_at = rows->Int(i, 5);
    if (!rows->IsNull(i, 6)) entry.revoke_reason = rows->Text(i, 6);
    nodes.push_back(std::move(entry));
  }
  return nodes;
}

Outcome PostgresStore::RevokeNode(const std::string& node, std::int64_t at,
                                  const std::string& reason) {
  auto updated = RunAlone("revoke_node", {node, Num(at), reason});
  if (!updated) return Error{updated.error()};
  if (updated->Affected() == 0) return Error{"no node " + node + " (see: nodes list)"};
  return Success();
}

Result<std::optional<RegisteredKey>> PostgresStore::FindKey(const std::string& kid) {
  auto rows = in_transaction_ ? RunInBatch("find_key", {kid}) : RunAlone("find_key", {kid});
  if (!rows) return Error{rows.error()};
  if (rows->Rows() == 0) return std::optional<RegisteredKey>();
  auto key = KeyFromText(rows->Text(0, 2));
  if (!key) return Error{key.error()};
  RegisteredKey found{rows->Text(0, 0),
                      rows->Text(0, 1),
                      *key,
                      std::nullopt,
                      rows->IsNull(0, 4) ? std::string() : rows->Text(0, 4),
                      std::nullopt,
                      ""};
  if (!rows->IsNull(0, 3)) found.revoked_at = rows->Int(0, 3);
  if (!rows->IsNull(0, 5)) {
    found.retired_at = rows->Int(0, 5);
    found.successor_kid = rows->Text(0, 6);
  }
  return std::optional<RegisteredKey>(std::move(found));
}

Result<KeyRotation> PostgresStore::AddRotatedKey(const RotatedKey& key) {
  auto taken = RunInBatch("rotated_kid_taken", {key.kid});
  if (!taken) return Error{taken.error()};
  if (taken->Rows() > 0) {
    if (taken->Text(0, 0) == key.node && !taken->IsNull(0, 1) && taken->Text(0, 1) == key.old_kid) {
      return KeyRotation{RotateResult::kAlready, ""};
    }
    return KeyRotation{RotateResult::kRefused, RotatedKidTaken(key.kid)};
  }
  auto moved = RunInBatch("old_kid_moved", {key.old_kid});
  if (!moved) return Error{moved.error()};
  if (moved->Rows() > 0) {
    return KeyRotation{RotateResult::kRefused,
                       OldKidMoved(key.old_kid, moved->Text(0, 0), moved->Int(0, 1))};
  }
  auto added = RunInBatch("add_rotated_key",
                          {key.kid, key.node, KeyText(key.key), key.old_kid, Num(key.since),
                           Num(key.epoch), Num(key.seq), Num(key.added_at)});
  if (!added) return Error{added.error()};
  return KeyRotation{RotateResult::kAdded, ""};
}

Result<std::vector<RotatedKey>> PostgresStore::RotatedKeys(const std::string& node) {
  auto rows =
      in_transaction_ ? RunInBatch("rotated_keys", {node}) : RunAlone("rotated_keys", {node});
  if (!rows) return Error{rows.error()};
  std::vector<RotatedKey> keys;
  for (int i = 0; i < rows->Rows(); ++i) {
    auto key = KeyFromText(rows->Text(i, 3));
    if (!key) return Error{key.error()};
    keys.push_back({rows->Text(i, 0), rows->Text(i, 1), rows->Text(i, 2), *key, rows->Int(i, 4),
                    rows->Int(i, 5), rows->Int(i, 6), rows->Int(i, 7)});
  }
  return keys;
}

Outcome PostgresStore::Ping() {
  if (in_transaction_) return Success();
  auto pong = RunAlone("ping", {});
  if (!pong) return Error{pong.error()};
  return Success();
}

Outcome PostgresStore::Begin() {
  if (auto connected = EnsureConnected(); !connected) return connected;
  locked_.clear();
  auto begun = db_->Exec("BEGIN");
  if (!begun && db_->Broken()) {
    if (auto connected = EnsureConnected(); !connected) return connected;
    begun = db_->Exec("BEGIN");
  }
  if (!begun) return Error{begun.error()};
  in_transaction_ = true;
  return Success();
}

Outcome PostgresStore::Commit() {
  if (!in_transaction_) return Error{"postgresql: commit outside a batch transaction"};
  auto done = db_->Exec("COMMIT");
  if (!done) return Error{done.error()};
  in_transaction_ = false;
  locked_.clear();
  return Success();
}

void PostgresStore::Rollback() {
  if (in_transaction_ && !db_->Broken()) (void)db_->Exec("ROLLBACK");
  in_transaction_ = false;
  locked_.clear();
}

bool PostgresStore::LastFailureRetryable() const {
  return db_ != nullptr && db_->LastFailureIsRetryable();
}

// Before a batch writes to (node, epoch). When it is the batch's first write nothing else has
// happened in the transaction yet, so on a serialization failure or deadlock it can start
// over without losing anything.
Outcome PostgresStore::LockWatermark(const std::string& node, std::int64_t epoch) {
  if (locked_.count({node, epoch}) != 0) return Success();
  const bool first_write = locked_.empty();
  std::string last_error;
  for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
    auto made = RunInBatch("make_mark", {node, Num(epoch)});
    auto locked = made ? RunInBatch("lock_mark", {node, Num(epoch)}) : Result<PgResult>(made);
    if (locked) {
      locked_.emplace(node, epoch);
      return Success();
    }
    last_error = locked.error();
    if (!first_write || !db_->LastFailureIsRetryable() || db_->Broken()) break;
    (void)db_->Exec("ROLLBACK");
    if (auto begun = db_->Exec("BEGIN"); !begun) return Error{begun.error()};
  }
  return Error{last_error};
}

Result<InsertResult> PostgresStore::InsertRecord(const VerifiedRecord& r,
                                                 std::int64_t received_at) {
  if (auto locked = LockWatermark(r.node, r.epoch); !locked) return Error{locked.error()};
  const std::string epoch = Num(r.epoch);
  const std::string seq = Num(r.seq);
  PgParams params = {r.node, epoch,  seq,       r.type, r.t,
                     r.prev, r.hash, r.payload, r.jws,  Num(received_at)};
  // The record and its typed row in one statement: one round trip.
  std::string statement = "insert_record";
  if (auto row = TypedRowOf(r.node, r.epoch, r.seq, r.decoded, received_at)) {
    statement = "stored_" + std::string(row->name);
    params.insert(params.end(), row->params.begin() + 3, row->params.end());
  }
  auto inserted = RunInBatch(statement, params);
  if (!inserted) return Error{inserted.error()};
  if (inserted->Affected() == 1) return InsertResult::kStored;
  auto stored = RunInBatch("record_hash", {r.node, epoch, seq});
  if (!stored) return Error{stored.error()};
  if (stored->Rows() == 1 && stored->Text(0, 0) == r.hash) return InsertResult::kDuplicate;
  auto forked = RunInBatch("insert_fork", {r.node, epoch, seq, r.hash, r.jws, Num(received_at)});
  if (!forked) return Error{forked.error()};
  return InsertResult::kFork;
}

Result<std::vector<InsertResult>> PostgresStore::InsertRecords(
    std::span<const VerifiedRecord> records, std::int64_t received_at) {
  std::vector<InsertResult> results;
  if (records.empty()) return results;
  const std::string& node = records.front().node;
  const std::int64_t epoch = records.front().epoch;
  if (auto locked = LockWatermark(node, epoch); !locked) return Error{locked.error()};
  auto stored = RunInBatch("insert_records", BatchInsertParams(records, received_at));
  if (!stored) return Error{stored.error()};
  std::map<std::int64_t, std::string> fresh;  // seq -> hash of each record this batch stored
  for (int i = 0; i < stored->Rows(); ++i) fresh.emplace(stored->Int(i, 0), stored->Text(i, 1));
  // The seqs the statement left out because they were taken before the batch: their hashes
  // tell a duplicate from a fork.
  std::map<std::int64_t, std::string> held;  // seq -> hash of the record stored there
  PgArray taken;
  bool any_taken = false;
  for (const VerifiedRecord& r : records) {
    if (fresh.contains(r.seq)) continue;
    taken.AddInt(r.seq);
    any_taken = true;
  }
  if (any_taken) {
    auto rows = RunInBatch("record_hashes", {node, Num(epoch), taken.Text()});
    if (!rows) return Error{rows.error()};
    for (int i = 0; i < rows->Rows(); ++i) held.emplace(rows->Int(i, 0), rows->Text(i, 1));
  }
  results.reserve(records.size());
  for (const VerifiedRecord& r : records) {
    if (auto at = held.find(r.seq); at != held.end()) {
      if (at->second == r.hash) {
        results.push_back(InsertResult::kDuplicate);
        continue;
      }
      auto forked = RunInBatch("insert_fork",
                               {node, Num(epoch), Num(r.seq), r.hash, r.jws, Num(received_at)});
      if (!forked) return Error{forked.error()};
      results.push_back(InsertResult::kFork);
      continue;
    }
    auto mine = fresh.find(r.seq);
    if (mine == fresh.end() || mine->second != r.hash) {
      return Error{"postgresql: the batch insert did not account for seq " + Num(r.seq)};
    }
    results.push_back(InsertResult::kStored);
    held.emplace(r.seq, r.hash);  // a later record at this seq in the batch meets this one
  }
  return results;
}

Result<Watermark> PostgresStore::LoadWatermark(const std::string& node, std::int64_t epoch) {
  if (!in_transaction_) {  // a look from outside a batch: no lock
    auto rows = RunAlone("load_mark", {node, Num(epoch)});
    if (!rows) return Error{rows.error()};
    if (rows->Rows() == 0) return Watermark{};
    return Watermark{rows->Int(0, 0), rows->Text(0, 1)};
  }
  if (auto locked = LockWatermark(node, epoch); !locked) return Error{locked.error()};
  auto rows = RunInBatch("lock_mark", {node, Num(epoch)});
  if (!rows) return Error{rows.error()};
  if (rows->Rows() == 0) return Watermark{};
  return Watermark{rows->Int(0, 0), rows->Text(0, 1)};
}

Outcome PostgresStore::SaveWatermark(const std::string& node, std::int64_t epoch,
                                     const Watermark& mark) {
  auto saved = RunInBatch("save_mark", {node, Num(epoch), Num(mark.ack_seq), mark.ack_hash});
  if (!saved) return Error{saved.error()};
  return Success();
}

Result<std::vector<StoredLink>> PostgresStore::LinksFrom(const std::string& node,
                                                         std::int64_t epoch, std::int64_t from_seq,
                                                         int limit) {
  const PgParams params = {node, Num(epoch), Num(from_seq), Num(limit)};
  auto rows = in_transaction_ ? RunInBatch("links_from", params) : RunAlone("links_from", params);
  if (!rows) return Error{rows.error()};
  std::vector<StoredLink> links;
  links.reserve(static_cast<std::size_t>(rows->Rows()));
  for (int i = 0; i < rows->Rows(); ++i) {
    links.push_back({rows->Int(i, 0), rows->Text(i, 1), rows->Text(i, 2)});
  }
  return links;
}

Result<std::vector<std::pair<std::int64_t, std::int64_t>>> PostgresStore::MissingRanges(
    const std::string& node, std::int64_t epoch, std::int64_t after_seq, int max_ranges) {
  const PgParams params = {node, Num(epoch), Num(after_seq), Num(max_ranges)};
  auto rows =
      in_transaction_ ? RunInBatch("missing_ranges", params) : RunAlone("missing_ranges", params);
  if (!rows) return Error{rows.error()};
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (int i = 0; i < rows->Rows(); ++i) ranges.emplace_back(rows->Int(i, 0), rows->Int(i, 1));
  return ranges;
}

Result<std::int64_t> PostgresStore::MaxEpoch(const std::string& node) {
  auto rows = in_transaction_ ? RunInBatch("max_epoch", {node}) : RunAlone("max_epoch", {node});
  if (!rows) return Error{rows.error()};
  return rows->Int(0, 0);
}

Result<std::int64_t> PostgresStore::CountInMinute(const std::string& node, std::int64_t minute) {
  const PgParams params = {node, FormatUtc(minute), FormatUtc(minute + 60)};
  auto rows =
      in_transaction_ ? RunInBatch("count_in_minute", params) : RunAlone("count_in_minute", params);
  if (!rows) return Error{rows.error()};
  return rows->Int(0, 0);
}

Result<std::map<std::int64_t, std::int64_t>> PostgresStore::CountInMinutes(
    const std::string& node, std::span<const std::int64_t> minutes) {
  std::map<std::int64_t, std::int64_t> counts;
  if (minutes.empty()) return counts;
  PgArray starts, lows, highs;
  for (std::int64_t minute : minutes) {
    if (!counts.emplace(minute, 0).second) continue;
    starts.AddInt(minute);
    lows.AddText(FormatUtc(minute));
    highs.AddText(FormatUtc(minute + 60));
  }
  const PgParams params = {node, starts.Text(), lows.Text(), highs.Text()};
  auto rows = in_transaction_ ? RunInBatch("count_in_minutes", params)
                              : RunAlone("count_in_minutes", params);
  if (!rows) return Error{rows.error()};
  for (int i = 0; i < rows->Rows(); ++i) counts[rows->Int(i, 0)] = rows->Int(i, 1);
  return counts;
}

}  // namespace fleet::receiver
