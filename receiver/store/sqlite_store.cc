#include "receiver/store/sqlite_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <type_traits>
#include <variant>

#include "base/utc_time.h"
#include "protocol/records.h"
#include "receiver/core/live_arrival.h"

namespace fleet::receiver {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS nodes (
  node TEXT PRIMARY KEY,
  operator TEXT NOT NULL,
  kid TEXT NOT NULL UNIQUE,
  public_key TEXT NOT NULL,          -- base64url of the 32-byte Ed25519 key (the JWK's x)
  added_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoke_reason TEXT                 -- why it was revoked (fleet-receiver nodes revoke)
);
-- Operators that left (fleet-receiver operators revoke): their nodes are revoked with them,
-- and no node is enrolled for them again.
CREATE TABLE IF NOT EXISTS operator_revocations (
  operator TEXT PRIMARY KEY,
  revoked_at INTEGER NOT NULL,
  reason TEXT NOT NULL
);
-- Keys nodes moved to by key_rotate records (RecordStore::AddRotatedKey): kid belongs to
-- node from since (the record's t, at epoch/seq of its chain); old_kid signs nothing after.
CREATE TABLE IF NOT EXISTS node_keys (
  kid TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  public_key TEXT NOT NULL,
  old_kid TEXT NOT NULL UNIQUE,
  since INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  added_at INTEGER NOT NULL
);
-- Enrolment (receiver/registry/enrolments.h): one-time tokens, kept as their SHA-256 digest,
-- and the nonces handed out, each good once.
CREATE TABLE IF NOT EXISTS enrol_tokens (
  token_hash TEXT PRIMARY KEY,
  operator TEXT NOT NULL,
  node TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  used_by TEXT
);
CREATE TABLE IF NOT EXISTS enrol_nonces (
  nonce TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
  node TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  t TEXT NOT NULL,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL,
  payload TEXT NOT NULL,
  jws TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (node, epoch, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS forks (
  node TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  jws TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (node, epoch, seq, hash)
);
-- Records of a node by time: the rate bound at ingest, the reports' time ranges.
CREATE INDEX IF NOT EXISTS records_by_node_t ON records (node, t);
CREATE TABLE IF NOT EXISTS watermarks (
  node TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  ack_seq INTEGER NOT NULL,
  ack_hash TEXT NOT NULL,
  PRIMARY KEY (node, epoch)
);
-- The decoded fields of each stored record (protocol/records.h), a table per record type
-- with fields, keyed like records: what the reports read. Times are unix seconds.
CREATE TABLE IF NOT EXISTS heartbeats (
  node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  minute INTEGER NOT NULL, up INTEGER NOT NULL, checks TEXT NOT NULL,
  ntp_synced INTEGER NOT NULL,
  PRIMARY KEY (node, epoch, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS heartbeats_by_minute ON heartbeats (node, minute);
CREATE TABLE IF NOT EXISTS task_runs (
  node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  job TEXT NOT NULL, name TEXT NOT NULL, run_at INTEGER NOT NULL, ok INTEGER NOT NULL,
  error TEXT,
  PRIMARY KEY (node, epoch, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS task_runs_by_run_at ON task_runs (node, run_at);
CREATE TABLE IF NOT EXISTS incidents (
  node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  incident_id INTEGER NOT NULL, check_name TEXT NOT NULL, opened INTEGER NOT NULL,
  closed INTEGER, summary TEXT NOT NULL,
  PRIMARY KEY (node, epoch, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incidents_by_opened ON incidents (node, opened);
CREATE TABLE IF NOT EXISTS agent_starts (
  node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  clean_previous_stop INTEGER NOT NULL, rebooted INTEGER NOT NULL,
  PRIMARY KEY (node, epoch, seq)
) WITHOUT ROWID;
-- live: received within kLiveWithinSeconds of at (receiver/core/live_arrival.h).
CREATE TABLE IF NOT EXISTS acks (
  node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  incident INTEGER NOT NULL, at INTEGER NOT NULL, by TEXT NOT NULL, via TEXT NOT NULL,
  note TEXT, received_at INTEGER NOT NULL, live INTEGER NOT NULL,
  PRIMARY KEY (node, epoch, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS acks_by_at ON acks (node, at);
-- from_at, until_at: the payload's from and until (FROM is an SQL keyword).
CREATE TABLE IF NOT EXISTS maintenance_windows (
  node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  from_at INTEGER NOT NULL, until_at INTEGER NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL,
  PRIMARY KEY (node, epoch, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS maintenance_windows_by_from ON maintenance_windows (node, from_at);
-- started, finished: unix seconds; changed and incident may be NULL.
CREATE TABLE IF NOT EXISTS remediations (
  node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  check_name TEXT NOT NULL, target TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL,
  attempt INTEGER NOT NULL, started INTEGER NOT NULL, finished INTEGER NOT NULL,
  outcome TEXT NOT NULL, changed TEXT, incident INTEGER,
  PRIMARY KEY (node, epoch, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS remediations_by_started ON remediations (node, started);
-- Closed months (receiver/store/closed_statements.h): the signed statement and the list of
-- the records it used ("hash received_at" lines); operators' payout wallets.
CREATE TABLE IF NOT EXISTS closed_statements (
  month TEXT PRIMARY KEY, closed_at INTEGER NOT NULL, receiver_kid TEXT NOT NULL,
  jws TEXT NOT NULL, record_list TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS operator_wallets (
  operator TEXT PRIMARY KEY, address TEXT NOT NULL, chain TEXT NOT NULL, token TEXT NOT NULL
);
-- The dashboard's access (receiver/access/access_tokens.h): tokens of an operator (NULL: the
-- foundation's admin) kept as their SHA-256 digest, and the login sessions made with them
-- (the secret's digest, bound to the token and the Host).
CREATE TABLE IF NOT EXISTS access_tokens (
  id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, operator TEXT, label TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER, last_used_at INTEGER
);
CREATE TABLE IF NOT EXISTS web_sessions (
  secret_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL, host TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_by_token ON web_sessions (token_id);
)sql";

// A kid's key, the node's first (nodes) or one it rotated to (node_keys), with the node's
// revocation and, when the node moved on from it, when and to which kid.
constexpr std::string_view kFindKeySql =
    "SELECT n.node, k.kid, k.public_key, n.revoked_at, n.revoke_reason, r.since, r.kid "
    "FROM (SELECT node, kid, public_key FROM nodes WHERE kid = ?1 "
    "UNION ALL SELECT node, kid, public_key FROM node_keys WHERE kid = ?1) AS k "
    "JOIN nodes AS n ON n.node = k.node LEFT JOIN node_keys AS r ON r.old_kid = k.kid";

// PRAGMA user_version: 1, every stored record has its typed row; 2, acks and maintenance
// windows have theirs too; 3, remediations.
constexpr std::int64_t kUserVersion = 3;

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

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, bool create) {
  struct stat info {};
  if (!create && ::stat(path.c_str(), &info) != 0) {
    return Error{"no receiver database at " + path + " (serve or nodes add creates it)"};
  }
  auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadWrite);
  if (!db) return Error{db.error()};
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db).value()));
  for (std::string_view pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto done = store->db_->Exec(pragma); !done) return Error{path + ": " + done.error()};
  }
  if (auto done = store->db_->Exec(kSchema); !done) return Error{path + ": " + done.error()};
  if (auto done = store->AddMissingColumns(); !done) return Error{path + ": " + done.error()};
  if (auto done = store->Prepare(); !done) return Error{path + ": " + done.error()};
  if (auto done = store->Upgrade(); !done) return Error{path + ": " + done.error()};
  return store;
}

Outcome SqliteStore::Prepare() {
  struct Item {
    std::unique_ptr<SqliteStatement>* slot;
    std::string_view sql;
  };
  const Item items[] = {
      {&insert_record_,
       "INSERT INTO records (node, epoch, seq, type, t, prev, hash, payload, jws, received_at) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (node, epoch, seq) DO "
       "NOTHING"},
      {&record_hash_, "SELECT hash FROM records WHERE node = ?1 AND epoch = ?2 AND seq = ?3"},
      {&insert_fork_,
       "INSERT INTO forks (node, epoch, seq, hash, jws, received_at) VALUES (?1, ?2, ?3, ?4, ?5, "
       "?6) ON CONFLICT DO NOTHING"},
      {&load_mark_, "SELECT ack_seq, ack_hash FROM watermarks WHERE node = ?1 AND epoch = ?2"},
      {&save_mark_,
       "INSERT INTO watermarks (node, epoch, ack_seq, ack_hash) VALUES (?1, ?2, ?3, ?4) "
       "ON CONFLICT (node, epoch) DO UPDATE SET ack_seq = excluded.ack_seq, "
       "ack_hash = excluded.ack_hash"},
      {&links_from_,
       "SELECT seq, prev, hash FROM records WHERE node = ?1 AND epoch = ?2 AND seq >= ?3 "
       "ORDER BY seq LIMIT ?4"},
      {&missing_ranges_,
       "SELECT before + 1, seq - 1 FROM (SELECT seq, LAG(seq, 1, ?3) OVER (ORDER BY seq) AS "
       "before FROM records WHERE node = ?1 AND epoch = ?2 AND seq > ?3) WHERE seq > before + 1 "
       "ORDER BY seq LIMIT ?4"},
      {&max_epoch_, "SELECT COALESCE(MAX(epoch), 0) FROM records WHERE node = ?1"},
      {&count_in_minute_, "SELECT count(*) FROM records WHERE node = ?1 AND t >= ?2 AND t < ?3"},
      {&find_key_, kFindKeySql},
      {&insert_heartbeat_,
       "INSERT INTO heartbeats (node, epoch, seq, minute, up, checks, ntp_synced) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING"},
      {&insert_task_,
       "INSERT INTO task_runs (node, epoch, seq, job, name, run_at, ok, error) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING"},
      {&insert_incident_,
       "INSERT INTO incidents (node, epoch, seq, incident_id, check_name, opened, closed, "
       "summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING"},
      {&insert_start_,
       "INSERT INTO agent_starts (node, epoch, seq, clean_previous_stop, rebooted) "
       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"},
      {&insert_ack_,
       "INSERT INTO acks (node, epoch, seq, incident, at, by, via, note, received_at, live) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING"},
      {&insert_maintenance_,
       "INSERT INTO maintenance_windows (node, epoch, seq, from_at, until_at, reason, by) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING"},
      {&insert_remediation_,
       "INSERT INTO remediations (node, epoch, seq, check_name, target, action, reason, "
       "attempt, started, finished, outcome, changed, incident) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT DO NOTHING"},
  };
  for (const auto& item : items) {
    auto statement = db_->Prepare(item.sql);
    if (!statement) return Error{statement.error()};
    *item.slot = std::move(statement).value();
  }
  return Success();
}

Outcome SqliteStore::AddMissingColumns() {
  struct Column {
    std::string_view table, name, type;
  };
  constexpr Column kAdded[] = {{"nodes", "revoke_reason", "TEXT"}};
  for (const Column& column : kAdded) {
    auto info =
        db_->Prepare("SELECT count(*) FROM pragma_table_info('" + std::string(column.table) +
                     "') WHERE name = '" + std::string(column.name) + "'");
    if (!info) return Error{info.error()};
    auto row = (*info)->Step();
    if (!row) return Error{row.error()};
    const bool present = *row && (*info)->Int(0) > 0;
    info->reset();
    if (present) continue;
    if (auto done = db_->Exec("ALTER TABLE " + std::string(column.table) + " ADD COLUMN " +
                              std::string(column.name) + " " + std::string(column.type));
        !done) {
      return done;
    }
  }
  return Success();
}

Outcome SqliteStore::AddNode(const NodeEntry& entry) {
  {
    auto found = db_->Prepare(
        "SELECT node, kid FROM nodes WHERE node = ?1 OR kid = ?2 "
        "UNION ALL SELECT node, kid FROM node_keys WHERE kid = ?2");
    if (!found) return Error{found.error()};
    (*found)->Bind(1, std::string_view(entry.node)).Bind(2, std::string_view(entry.kid));
    auto row = (*found)->Step();
    if (!row) return Error{row.error()};
    if (*row) {
      if ((*found)->Text(0) == entry.node) return Error{"node " + entry.node + " already exists"};
      return Error{"key " + entry.kid + " is already registered to node " + (*found)->Text(0)};
    }
  }
  auto insert = db_->Prepare(
      "INSERT INTO nodes (node, operator, kid, public_key, added_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!insert) return Error{insert.error()};
  (*insert)
      ->Bind(1, std::string_view(entry.node))
      .Bind(2, std::string_view(entry.operator_id))
      .Bind(3, std::string_view(entry.kid))
      .Bind(4, std::string_view(KeyText(entry.key)))
      .Bind(5, entry.added_at);
  return (*insert)->Run();
}

Result<std::vector<NodeEntry>> SqliteStore::ListNodes() {
  auto query = db_->Prepare(
      "SELECT node, operator, kid, public_key, added_at, revoked_at, revoke_reason FROM nodes "
      "ORDER BY node");
  if (!query) return Error{query.error()};
  std::vector<NodeEntry> nodes;
  for (;;) {
    auto row = (*query)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    auto& q = **query;
    auto key = KeyFromText(q.Text(3));
    if (!key) return Error{key.error()};
    NodeEntry entry{q.Text(0), q.Text(1), q.Text(2), *key, q.Int(4), std::nullopt, ""};
    if (!q.IsNull(5)) entry.revoked_at = q.Int(5);
    if (!q.IsNull(6)) entry.revoke_reason = q.Text(6);
    nodes.push_back(std::move(entry));
  }
  return nodes;
}

Outcome SqliteStore::RevokeNode(const std::string& node, std::int64_t at,
                                const std::string& reason) {
  auto update = db_->Prepare(
      "UPDATE nodes SET revoked_at = COALESCE(revoked_at, ?2), "
      "revoke_reason = CASE WHEN revoked_at IS NULL THEN ?3 ELSE revoke_reason END "
      "WHERE node = ?1");
  if (!update) return Error{update.error()};
  (*update)->Bind(1, std::string_view(node)).Bind(2, at).Bind(3, std::string_view(reason));
  if (auto done = (*update)->Run(); !done) return done;
  if (db_->Changes() == 0) return Error{"no node " + node + " (see: nodes list)"};
  return Success();
}

Result<std::optional<RegisteredKey>> SqliteStore::FindKey(const std::string& kid) {
  find_key_->Bind(1, std::string_view(kid));
  auto row = find_key_->Step();
  if (!row) {
    find_key_->Reset();
    return Error{row.error()};
  }
  std::optional<RegisteredKey> found;
  if (*row) {
    auto key = KeyFromText(find_key_->Text(2));
    if (!key) {
      find_key_->Reset();
      return Error{key.error()};
    }
    found = RegisteredKey{find_key_->Text(0),
                          find_key_->Text(1),
                          *key,
                          std::nullopt,
                          find_key_->IsNull(4) ? std::string() : find_key_->Text(4),
                          std::nullopt,
                          ""};
    if (!find_key_->IsNull(3)) found->revoked_at = find_key_->Int(3);
    if (!find_key_->IsNull(5)) {
      found->retired_at = find_key_->Int(5);
      found->successor_kid = find_key_->Text(6);
    }
  }
  find_key_->Reset();
  return found;
}

Result<KeyRotation> SqliteStore::AddRotatedKey(const RotatedKey& key) {
  auto taken = db_->Prepare(
      "SELECT node, old_kid FROM node_keys WHERE kid = ?1 "
      "UNION ALL SELECT node, NULL FROM nodes WHERE kid = ?1");
  if (!taken) return Error{taken.error()};
  (*taken)->Bind(1, std::string_view(key.kid));
  auto row = (*taken)->Step();
  if (!row) return Error{row.error()};
  if (*row) {
    if ((*taken)->Text(0) == key.node && !(*taken)->IsNull(1) && (*taken)->Text(1) == key.old_kid) {
      return KeyRotation{RotateResult::kAlready, ""};
    }
    return KeyRotation{RotateResult::kRefused, RotatedKidTaken(key.kid)};
  }
  taken->reset();
  auto moved = db_->Prepare("SELECT kid, since FROM node_keys WHERE old_kid = ?1");
  if (!moved) return Error{moved.error()};
  (*moved)->Bind(1, std::string_view(key.old_kid));
  auto moved_row = (*moved)->Step();
  if (!moved_row) return Error{moved_row.error()};
  if (*moved_row) {
    return KeyRotation{RotateResult::kRefused,
                       OldKidMoved(key.old_kid, (*moved)->Text(0), (*moved)->Int(1))};
  }
  moved->reset();
  auto insert = db_->Prepare(
      "INSERT INTO node_keys (kid, node, public_key, old_kid, since, epoch, seq, added_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!insert) return Error{insert.error()};
  (*insert)
      ->Bind(1, std::string_view(key.kid))
      .Bind(2, std::string_view(key.node))
      .Bind(3, std::string_view(KeyText(key.key)))
      .Bind(4, std::string_view(key.old_kid))
      .Bind(5, key.since)
      .Bind(6, key.epoch)
      .Bind(7, key.seq)
      .Bind(8, key.added_at);
  if (auto done = (*insert)->Run(); !done) return Error{done.error()};
  return KeyRotation{RotateResult::kAdded, ""};
}

Result<std::vector<RotatedKey>> SqliteStore::RotatedKeys(const std::string& node) {
  auto query = db_->Prepare(
      "SELECT node, old_kid, kid, public_key, since, epoch, seq, added_at FROM node_keys "
      "WHERE node = ?1 ORDER BY rowid");
  if (!query) return Error{query.error()};
  (*query)->Bind(1, std::string_view(node));
  std::vector<RotatedKey> keys;
  for (;;) {
    auto row = (*query)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    auto& q = **query;
    auto key = KeyFromText(q.Text(3));
    if (!key) return Error{key.error()};
    keys.push_back({q.Text(0), q.Text(1), q.Text(2), *key, q.Int(4), q.Int(5), q.Int(6), q.Int(7)});
  }
  return keys;
}

Outcome SqliteStore::Ping() { return db_->Exec("SELECT count(*) FROM nodes"); }

Outcome SqliteStore::Begin() {
  auto done = db_->Exec("BEGIN IMMEDIATE");
  in_transaction_ = done.ok();
  return done;
}

Outcome SqliteStore::Commit() {
  auto done = db_->Exec("COMMIT");
  if (done.ok()) in_transaction_ = false;
  return done;
}

void SqliteStore::Rollback() {
  if (in_transaction_) (void)db_->Exec("ROLLBACK");
  in_transaction_ = false;
}

Result<InsertResult> SqliteStore::InsertRecord(const VerifiedRecord& r, std::int64_t received_at) {
  insert_record_->Bind(1, std::string_view(r.node))
      .Bind(2, r.epoch)
      .Bind(3, r.seq)
      .Bind(4, std::string_view(r.type))
      .Bind(5, std::string_view(r.t))
      .Bind(6, std::string_view(r.prev))
      .Bind(7, std::string_view(r.hash))
      .Bind(8, std::string_view(r.payload))
      .Bind(9, std::string_view(r.jws))
      .Bind(10, received_at);
  if (auto done = insert_record_->Run(); !done) return Error{done.error()};
  if (db_->Changes() == 1) {
    if (auto typed = InsertTyped(r.node, r.epoch, r.seq, r.decoded, received_at); !typed) {
      return Error{typed.error()};
    }
    return InsertResult::kStored;
  }

  record_hash_->Bind(1, std::string_view(r.node)).Bind(2, r.epoch).Bind(3, r.seq);
  auto row = record_hash_->Step();
  std::string stored_hash = row && *row ? record_hash_->Text(0) : std::string();
  record_hash_->Reset();
  if (!row) return Error{row.error()};
  if (stored_hash == r.hash) return InsertResult::kDuplicate;
  insert_fork_->Bind(1, std::string_view(r.node))
      .Bind(2, r.epoch)
      .Bind(3, r.seq)
      .Bind(4, std::string_view(r.hash))
      .Bind(5, std::string_view(r.jws))
      .Bind(6, received_at);
  if (auto done = insert_fork_->Run(); !done) return Error{done.error()};
  return InsertResult::kFork;
}

Outcome SqliteStore::InsertTyped(const std::string& node, std::int64_t epoch, std::int64_t seq,
                                 const protocol::Record& record, std::int64_t received_at) {
  auto keyed = [&](SqliteStatement& insert) -> SqliteStatement& {
    return insert.Bind(1, std::string_view(node)).Bind(2, epoch).Bind(3, seq);
  };
  return std::visit(
      [&](const auto& body) -> Outcome {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Body, protocol::Heartbeat>) {
          return keyed(*insert_heartbeat_)
              .Bind(4, body.minute)
              .Bind(5, std::int64_t{body.up})
              .Bind(6, std::string_view(protocol::EncodeCheckStates(body.checks)))
              .Bind(7, std::int64_t{body.ntp_synced})
              .Run();
        } else if constexpr (std::is_same_v<Body, protocol::TaskRun>) {
          return keyed(*insert_task_)
              .Bind(4, std::string_view(body.job))
              .Bind(5, std::string_view(body.name))
              .Bind(6, body.run_at)
              .Bind(7, std::int64_t{body.ok})
              .Bind(8, body.error)
              .Run();
        } else if constexpr (std::is_same_v<Body, protocol::Incident>) {
          auto& insert = keyed(*insert_incident_)
                             .Bind(4, body.id)
                             .Bind(5, std::string_view(body.check))
                             .Bind(6, body.opened)
                             .Bind(8, std::string_view(body.summary));
          if (body.closed) {
            insert.Bind(7, *body.closed);
          } else {
            insert.BindNull(7);
          }
          return insert.Run();
        } else if constexpr (std::is_same_v<Body, protocol::AgentStart>) {
          return keyed(*insert_start_)
              .Bind(4, std::int64_t{body.clean_previous_stop})
              .Bind(5, std::int64_t{body.rebooted})
              .Run();
        } else if constexpr (std::is_same_v<Body, protocol::Ack>) {
          return keyed(*insert_ack_)
              .Bind(4, body.incident)
              .Bind(5, body.at)
              .Bind(6, std::string_view(body.by))
              .Bind(7, protocol::AckViaName(body.via))
              .Bind(8, body.note)
              .Bind(9, received_at)
              .Bind(10, std::int64_t{ArrivedLive(body.at, received_at)})
              .Run();
        } else if constexpr (std::is_same_v<Body, protocol::Maintenance>) {
          return keyed(*insert_maintenance_)
              .Bind(4, body.from)
              .Bind(5, body.until)
              .Bind(6, std::string_view(body.reason))
              .Bind(7, std::string_view(body.by))
              .Run();
        } else if constexpr (std::is_same_v<Body, protocol::Remediation>) {
          keyed(*insert_remediation_)
              .Bind(4, std::string_view(body.check))
              .Bind(5, std::string_view(body.target))
              .Bind(6, protocol::RemedyActionName(body.action))
              .Bind(7, std::string_view(body.reason))
              .Bind(8, body.attempt)
              .Bind(9, body.started)
              .Bind(10, body.finished)
              .Bind(11, protocol::RemedyOutcomeName(body.outcome))
              .Bind(12, body.changed);
          if (body.incident) {
            insert_remediation_->Bind(13, *body.incident);
          } else {
            insert_remediation_->BindNull(13);
          }
          return insert_remediation_->Run();
        } else {
          return Success();  // agent_stop: no fields
        }
      },
      record.body);
}

Outcome SqliteStore::Upgrade() {
  // A database from before a typed table gets its rows here, once, from the stored
  // payloads: before user_version 1 every record's; at 1, the acks', maintenance windows'
  // and remediations'; at 2, the remediations' (kUserVersion).
  if (auto begun = db_->Exec("BEGIN IMMEDIATE"); !begun) return begun;
  auto fail = [&](const std::string& what) -> Outcome {
    (void)db_->Exec("ROLLBACK");
    return Error{"filling the typed tables: " + what};
  };
  auto version = db_->Prepare("PRAGMA user_version");
  if (!version) return fail(version.error());
  auto row = (*version)->Step();
  if (!row) return fail(row.error());
  const std::int64_t at = *row ? (*version)->Int(0) : 0;
  version->reset();
  if (at >= kUserVersion) return db_->Exec("COMMIT");
  std::string select = "SELECT node, epoch, seq, payload, received_at FROM records";
  const auto name = [](protocol::RecordType type) {
    return "'" + std::string(protocol::RecordTypeName(type)) + "'";
  };
  if (at == 1) {
    select += " WHERE type IN (" + name(protocol::RecordType::kAck) + ", " +
              name(protocol::RecordType::kMaintenance) + ", " +
              name(protocol::RecordType::kRemediation) + ")";
  } else if (at == 2) {
    select += " WHERE type = " + name(protocol::RecordType::kRemediation);
  }
  auto records = db_->Prepare(select);
  if (!records) return fail(records.error());
  std::int64_t undecodable = 0;
  for (;;) {
    auto next = (*records)->Step();
    if (!next) return fail(next.error());
    if (!*next) break;
    auto decoded = protocol::DecodeRecord((*records)->Text(3));
    if (!decoded) {
      ++undecodable;  // stored under the older, looser rules: the reports leave it out
      continue;
    }
    if (auto done = InsertTyped((*records)->Text(0), (*records)->Int(1), (*records)->Int(2),
                                *decoded, (*records)->Int(4));
        !done) {
      return fail(done.error());
    }
  }
  records->reset();
  if (auto done = db_->Exec("PRAGMA user_version = " + std::to_string(kUserVersion)); !done) {
    return fail(done.error());
  }
  undecodable_records_ = undecodable;
  return db_->Exec("COMMIT");
}

Result<Watermark> SqliteStore::LoadWatermark(const std::string& node, std::int64_t epoch) {
  load_mark_->Bind(1, std::string_view(node)).Bind(2, epoch);
  auto row = load_mark_->Step();
  Watermark mark;
  if (row && *row) mark = Watermark{load_mark_->Int(0), load_mark_->Text(1)};
  load_mark_->Reset();
  if (!row) return Error{row.error()};
  return mark;
}

Outcome SqliteStore::SaveWatermark(const std::string& node, std::int64_t epoch,
                                   const Watermark& mark) {
  save_mark_->Bind(1, std::string_view(node))
      .Bind(2, epoch)
      .Bind(3, mark.ack_seq)
      .Bind(4, std::string_view(mark.ack_hash));
  return save_mark_->Run();
}

Result<std::vector<StoredLink>> SqliteStore::LinksFrom(const std::string& node, std::int64_t epoch,
                                                       std::int64_t from_seq, int limit) {
  links_from_->Bind(1, std::string_view(node))
      .Bind(2, epoch)
      .Bind(3, from_seq)
      .Bind(4, static_cast<std::int64_t>(limit));
  std::vector<StoredLink> links;
  for (;;) {
    auto row = links_from_->Step();
    if (!row) {
      links_from_->Reset();
      return Error{row.error()};
    }
    if (!*row) break;
    links.push_back({links_from_->Int(0), links_from_->Text(1), links_from_->Text(2)});
  }
  links_from_->Reset();
  return links;
}

Result<std::vector<std::pair<std::int64_t, std::int64_t>>> SqliteStore::MissingRanges(
    const std::string& node, std::int64_t epoch, std::int64_t after_seq, int max_ranges) {
  missing_ranges_->Bind(1, std::string_view(node))
      .Bind(2, epoch)
      .Bind(3, after_seq)
      .Bind(4, static_cast<std::int64_t>(max_ranges));
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (;;) {
    auto row = missing_ranges_->Step();
    if (!row) {
      missing_ranges_->Reset();
      return Error{row.error()};
    }
    if (!*row) break;
    ranges.emplace_back(missing_ranges_->Int(0), missing_ranges_->Int(1));
  }
  missing_ranges_->Reset();
  return ranges;
}

Result<std::int64_t> SqliteStore::MaxEpoch(const std::string& node) {
  max_epoch_->Bind(1, std::string_view(node));
  auto row = max_epoch_->Step();
  std::int64_t epoch = row && *row ? max_epoch_->Int(0) : 0;
  max_epoch_->Reset();
  if (!row) return Error{row.error()};
  return epoch;
}

Result<std::int64_t> SqliteStore::CountInMinute(const std::string& node, std::int64_t minute) {
  const std::string from = FormatUtc(minute), to = FormatUtc(minute + 60);
  count_in_minute_->Bind(1, std::string_view(node))
      .Bind(2, std::string_view(from))
      .Bind(3, std::string_view(to));
  auto row = count_in_minute_->Step();
  const std::int64_t count = row && *row ? count_in_minute_->Int(0) : 0;
  count_in_minute_->Reset();
  if (!row) return Error{row.error()};
  return count;
}

}  // namespace fleet::receiver
