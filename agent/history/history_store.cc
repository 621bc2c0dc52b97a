#include "agent/history/history_store.h"

#include "protocol/key_proof.h"

#include "agent/history/meta_table.h"
#include "base/json_text.h"
#include "base/text.h"
#include "protocol/records.h"

namespace fleet {
namespace {

// 2: records keyed by (epoch, seq), so a new epoch starts again at seq 1; spool_bytes.
// 3: acks and maintenance_windows. 4: remediations.
constexpr int kSchemaVersion = 4;

constexpr const char* kMigrateFrom1 = R"sql(
ALTER TABLE records RENAME TO records_v1;
CREATE TABLE records(
  epoch INTEGER NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, t INTEGER NOT NULL,
  payload TEXT NOT NULL, jws TEXT, PRIMARY KEY(epoch, seq));
INSERT INTO records SELECT epoch, seq, type, t, payload, jws FROM records_v1;
DROP TABLE records_v1;
INSERT INTO meta(key, value)
  SELECT 'spool_bytes', coalesce(sum(length(CAST(coalesce(jws, payload) AS BLOB)) + 1), 0)
  FROM records WHERE true
  ON CONFLICT(key) DO UPDATE SET value = excluded.value;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

// 2 -> 3 only adds tables (acks, maintenance_windows), which kSchema then makes.
constexpr const char* kMigrateFrom2 = R"sql(
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)sql";

// 3 -> 4 only adds a table (remediations), which kSchema then makes.
constexpr const char* kMigrateFrom3 = R"sql(
UPDATE meta SET value = '4' WHERE key = 'schema_version';
)sql";

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS heartbeats(
  minute INTEGER PRIMARY KEY, up INTEGER NOT NULL, checks TEXT NOT NULL,
  t INTEGER NOT NULL, boot_id TEXT NOT NULL, mono_ms INTEGER NOT NULL, ntp_synced INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks(
  job TEXT NOT NULL, run_at TEXT NOT NULL, name TEXT NOT NULL, ok INTEGER NOT NULL, error TEXT,
  run_at_unix INTEGER NOT NULL, recorded INTEGER NOT NULL, PRIMARY KEY(job, run_at));
CREATE INDEX IF NOT EXISTS tasks_by_time ON tasks(run_at_unix);
CREATE TABLE IF NOT EXISTS incidents(
  id INTEGER PRIMARY KEY, check_name TEXT NOT NULL, opened INTEGER NOT NULL, closed INTEGER,
  summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS disk_samples(
  t INTEGER NOT NULL, path TEXT NOT NULL, used_bytes INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
  PRIMARY KEY(path, t));
CREATE TABLE IF NOT EXISTS agent_runs(
  id INTEGER PRIMARY KEY, started INTEGER NOT NULL, boot_id TEXT NOT NULL,
  clean_previous_stop INTEGER NOT NULL, rebooted INTEGER NOT NULL, stopped INTEGER);
CREATE TABLE IF NOT EXISTS records(
  epoch INTEGER NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, t INTEGER NOT NULL,
  payload TEXT NOT NULL, jws TEXT, PRIMARY KEY(epoch, seq));
CREATE TABLE IF NOT EXISTS acks(
  id INTEGER PRIMARY KEY, incident INTEGER NOT NULL, at INTEGER NOT NULL, by TEXT NOT NULL,
  via TEXT NOT NULL, note TEXT, recorded INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS acks_by_incident ON acks(incident);
CREATE TABLE IF NOT EXISTS maintenance_windows(
  id INTEGER PRIMARY KEY, from_at INTEGER NOT NULL, until_at INTEGER NOT NULL,
  reason TEXT NOT NULL, by TEXT NOT NULL, recorded INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS remediations(
  id INTEGER PRIMARY KEY, check_name TEXT NOT NULL, target TEXT NOT NULL, action TEXT NOT NULL,
  reason TEXT NOT NULL, attempt INTEGER NOT NULL, started INTEGER NOT NULL,
  finished INTEGER NOT NULL, outcome TEXT NOT NULL, changed TEXT, incident INTEGER);
CREATE INDEX IF NOT EXISTS remediations_by_started ON remediations(started);
CREATE TABLE IF NOT EXISTS refused_records(
  epoch INTEGER NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, t INTEGER NOT NULL,
  payload TEXT NOT NULL, jws TEXT, reason TEXT NOT NULL, refused_at INTEGER NOT NULL,
  PRIMARY KEY(epoch, seq));
)sql";

protocol::CheckState CheckStateOf(Status status) {
  switch (status) {
    case Status::kOk:
      return protocol::CheckState::kOk;
    case Status::kWarning:
      return protocol::CheckState::kWarning;
    case Status::kCritical:
      return protocol::CheckState::kCritical;
    case Status::kUnknown:
      break;
  }
  return protocol::CheckState::kUnknown;
}

template <typename T>
Result<T> Fail(const std::string& what, const Outcome& outcome) {
  return Error{what + ": " + outcome.error()};
}

}  // namespace

HistoryStore::HistoryStore(std::unique_ptr<SqliteDb> db, std::string state_dir, std::string node_id,
                           std::string agent_version, std::optional<NodeKey> key)
    : db_(std::move(db)),
      state_dir_(std::move(state_dir)),
      node_id_(std::move(node_id)),
      agent_version_(std::move(agent_version)),
      key_(std::move(key)) {}

Result<std::unique_ptr<HistoryStore>> HistoryStore::Open(const std::string& state_dir,
                                                         bool read_only, std::string node_id,
                                                         std::string agent_version,
                                                         std::optional<NodeKey> key,
                                                         std::int64_t first_epoch) {
  const std::string path = state_dir + "/history.db";
  auto db =
      SqliteDb::Open(path, read_only ? SqliteDb::Mode::kReadOnly : SqliteDb::Mode::kReadWrite);
  if (!db) return Error{db.error()};
  std::unique_ptr<HistoryStore> store(new HistoryStore(std::move(db).value(), state_dir,
                                                       std::move(node_id), std::move(agent_version),
                                                       std::move(key)));
  if (!read_only) {
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
      auto done = store->db_->Exec(pragma);
      if (!done) return Error{path + ": " + done.error()};
    }
    auto schema = store->CreateSchema(first_epoch);
    if (!schema) return Error{path + ": " + schema.error()};
  }
  return store;
}

Outcome HistoryStore::CreateSchema(std::int64_t first_epoch) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  if (auto done = db_->Exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT "
                            "NOT NULL)");
      !done) {
    return done;
  }
  auto version = Meta("schema_version");
  if (!version) return Error{version.error()};
  if (*version == std::optional<std::string>("1")) {
    if (auto done = db_->Exec(kMigrateFrom1); !done) return done;
    version = std::optional<std::string>("2");
  }
  if (*version == std::optional<std::string>("2")) {
    if (auto done = db_->Exec(kMigrateFrom2); !done) return done;
    version = std::optional<std::string>("3");
  }
  if (*version == std::optional<std::string>("3")) {
    if (auto done = db_->Exec(kMigrateFrom3); !done) return done;
    version = std::optional<std::string>("4");
  }
  if (auto done = db_->Exec(kSchema); !done) return done;
  if (!*version) {
    if (auto done = SetMeta("schema_version", std::to_string(kSchemaVersion)); !done) return done;
    if (auto done = SetMeta("epoch", std::to_string(first_epoch)); !done) return done;
    if (auto done = SetMeta("next_seq", "1"); !done) return done;
  } else if (**version != std::to_string(kSchemaVersion)) {
    return Error{"history schema version " + **version + " is newer than this agent knows (" +
                 std::to_string(kSchemaVersion) + ")"};
  }
  return tx.Commit();
}

Result<std::optional<std::string>> HistoryStore::Meta(const std::string& key) {
  return ReadMeta(*db_, key);
}

Outcome HistoryStore::SetMeta(const std::string& key, const std::string& value) {
  return WriteMeta(*db_, key, value);
}

Result<std::int64_t> HistoryStore::MetaInt(const std::string& key, std::int64_t fallback) {
  return ReadMetaInt(*db_, key, fallback);
}

Outcome HistoryStore::AppendRecord(protocol::RecordBody body, const RecordStamp& stamp) {
  auto epoch = MetaInt("epoch", 1);
  if (!epoch) return Error{epoch.error()};
  auto next_seq = MetaInt("next_seq", 1);
  if (!next_seq) return Error{next_seq.error()};
  const std::int64_t seq = *next_seq;
  auto prev = Meta("prev_hash");
  if (!prev) return Error{prev.error()};
  const protocol::Record record{{node_id_, *epoch, seq, prev->value_or(GenesisHash()), stamp.wall,
                                 stamp.boot_id, stamp.mono_ms, agent_version_},
                                std::move(body)};
  const std::string type(protocol::RecordTypeName(record.Type()));
  const std::string payload_text = protocol::EncodeRecord(record);
  std::optional<std::string> jws;
  if (key_) {
    // Another process may have rotated the key since (fleet-agent rotate-key).
    if (auto followed = FollowKey(); !followed) return followed;
    jws = SignCompactJws(payload_text, key_->secret_key, key_->kid);
  }
  const auto size = static_cast<std::int64_t>(jws ? jws->size() + 1 : payload_text.size() + 1);
  if (static_cast<std::size_t>(size - 1) > kMaxRecordBytes) {
    // The receiver refuses a record this large, and it would only wait in the spool: not
    // made (its history row stays), counted; no seq is taken, so the chain stays unbroken.
    // The accountant cuts free text well below this; only a bug gets here.
    auto oversized = MetaInt("oversized_records", 0);
    if (!oversized) return Error{oversized.error()};
    return SetMeta("oversized_records", std::to_string(*oversized + 1));
  }
  auto spooled = MetaInt("spool_bytes", 0);
  if (!spooled) return Error{spooled.error()};
  if (record.Type() != protocol::RecordType::kHeartbeat &&
      record.Type() != protocol::RecordType::kKeyRotate &&
      *spooled + size > static_cast<std::int64_t>(spool_limit_)) {
    // The spool is full: detail is shed (its history row stays), heartbeats are kept. No
    // seq is taken, so the chain stays unbroken.
    auto shed = MetaInt("shed_records", 0);
    if (!shed) return Error{shed.error()};
    return SetMeta("shed_records", std::to_string(*shed + 1));
  }
  auto stmt =
      db_->Prepare("INSERT INTO records(epoch, seq, type, t, payload, jws) VALUES(?,?,?,?,?,?)");
  if (!stmt) return Error{stmt.error()};
  auto done = (*stmt)
                  ->Bind(1, *epoch)
                  .Bind(2, seq)
                  .Bind(3, std::string_view(type))
                  .Bind(4, stamp.wall)
                  .Bind(5, std::string_view(payload_text))
                  .Bind(6, jws)
                  .Run();
  if (!done) return done;
  if (auto set = SetMeta("spool_bytes", std::to_string(*spooled + size)); !set) return set;
  if (jws) {
    if (auto set = SetMeta("prev_hash", ChainHash(*jws)); !set) return set;
  }
  return SetMeta("next_seq", std::to_string(seq + 1));
}

Result<bool> HistoryStore::AddHeartbeat(const HeartbeatEntry& entry, const RecordStamp& stamp) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return Fail<bool>("heartbeat", begun);
  protocol::Heartbeat beat{entry.minute * 60, entry.up, {}, entry.ntp_synced};
  nlohmann::json checks = nlohmann::json::object();  // the history row's copy
  for (const auto& [name, status] : entry.checks) {
    checks[name] = StatusName(status);
    beat.checks.emplace(name, CheckStateOf(status));
  }
  auto stmt = db_->Prepare(
      "INSERT OR IGNORE INTO heartbeats(minute, up, checks, t, boot_id, mono_ms, ntp_synced) "
      "VALUES(?,?,?,?,?,?,?)");
  if (!stmt) return Error{stmt.error()};
  auto done = (*stmt)
                  ->Bind(1, entry.minute)
                  .Bind(2, std::int64_t{entry.up})
                  .Bind(3, std::string_view(DumpJson(checks)))
                  .Bind(4, stamp.wall)
                  .Bind(5, std::string_view(stamp.boot_id))
                  .Bind(6, stamp.mono_ms)
                  .Bind(7, std::int64_t{entry.ntp_synced})
                  .Run();
  if (!done) return Fail<bool>("heartbeat", done);
  if (db_->Changes() == 0) return false;  // this minute already has its heartbeat
  if (auto appended = AppendRecord(std::move(beat), stamp); !appended) {
    return Fail<bool>("heartbeat record", appended);
  }
  if (auto committed = tx.Commit(); !committed) return Fail<bool>("heartbeat", committed);
  return true;
}

Result<bool> HistoryStore::AddTask(const TaskEntry& entry, const RecordStamp& stamp) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return Fail<bool>("task", begun);
  auto stmt = db_->Prepare(
      "INSERT OR IGNORE INTO tasks(job, run_at, name, ok, error, run_at_unix, recorded) "
      "VALUES(?,?,?,?,?,?,?)");
  if (!stmt) return Error{stmt.error()};
  auto done = (*stmt)
                  ->Bind(1, std::string_view(entry.job))
                  .Bind(2, std::string_view(entry.run_at))
                  .Bind(3, std::string_view(entry.name))
                  .Bind(4, std::int64_t{entry.ok})
                  .Bind(5, entry.error)
                  .Bind(6, entry.run_at_unix)
                  .Bind(7, stamp.wall)
                  .Run();
  if (!done) return Fail<bool>("task", done);
  if (db_->Changes() == 0) return false;  // counted before
  // The record carries the run time in UTC (the contract's form); the history row keeps
  // Hermes's text, offset and fraction included, as the run's identity.
  protocol::TaskRun run{entry.job, entry.name, entry.run_at_unix, entry.ok, entry.error};
  if (auto appended = AppendRecord(std::move(run), stamp); !appended) {
    return Fail<bool>("task record", appended);
  }
  if (auto committed = tx.Commit(); !committed) return Fail<bool>("task", committed);
  return true;
}

Result<std::int64_t> HistoryStore::OpenIncident(const std::string& check,
                                                const std::string& summary,
                                                const RecordStamp& stamp) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return Fail<std::int64_t>("incident", begun);
  auto stmt = db_->Prepare("INSERT INTO incidents(check_name, opened, summary) VALUES(?,?,?)");
  if (!stmt) return Error{stmt.error()};
  auto done = (*stmt)
                  ->Bind(1, std::string_view(check))
                  .Bind(2, stamp.wall)
                  .Bind(3, std::string_view(summary))
                  .Run();
  if (!done) return Fail<std::int64_t>("incident", done);
  const std::int64_t id = db_->LastInsertId();
  protocol::Incident opened{id, check, stamp.wall, std::nullopt, summary};
  if (auto appended = AppendRecord(std::move(opened), stamp); !appended) {
    return Fail<std::int64_t>("incident record", appended);
  }
  if (auto committed = tx.Commit(); !committed) return Fail<std::int64_t>("incident", committed);
  return id;
}

Outcome HistoryStore::CloseIncident(std::int64_t id, const RecordStamp& stamp) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  auto stmt = db_->Prepare(
      "UPDATE incidents SET closed = ? WHERE id = ? AND closed IS NULL "
      "RETURNING check_name, opened, summary");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, stamp.wall).Bind(2, id);
  auto row = (*stmt)->Step();
  if (!row) return Error{row.error()};
  if (!*row) return Success();  // already closed
  protocol::Incident closed{id, (*stmt)->Text(0), (*stmt)->Int(1), stamp.wall, (*stmt)->Text(2)};
  (*stmt)->Reset();
  if (auto appended = AppendRecord(std::move(closed), stamp); !appended) return appended;
  return tx.Commit();
}

Outcome HistoryStore::AddDiskSample(const DiskSample& sample) {
  auto stmt = db_->Prepare(
      "INSERT OR REPLACE INTO disk_samples(t, path, used_bytes, size_bytes) VALUES(?,?,?,?)");
  if (!stmt) return Error{stmt.error()};
  return (*stmt)
      ->Bind(1, sample.t)
      .Bind(2, std::string_view(sample.path))
      .Bind(3, static_cast<std::int64_t>(sample.used_bytes))
      .Bind(4, static_cast<std::int64_t>(sample.size_bytes))
      .Run();
}

Outcome HistoryStore::AddAgentStart(const AgentStartEntry& entry, const RecordStamp& stamp) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  auto stmt = db_->Prepare(
      "INSERT INTO agent_runs(started, boot_id, clean_previous_stop, rebooted) VALUES(?,?,?,?)");
  if (!stmt) return Error{stmt.error()};
  auto done = (*stmt)
                  ->Bind(1, stamp.wall)
                  .Bind(2, std::string_view(stamp.boot_id))
                  .Bind(3, std::int64_t{entry.clean_previous_stop})
                  .Bind(4, std::int64_t{entry.rebooted})
                  .Run();
  if (!done) return done;
  if (auto appended =
          AppendRecord(protocol::AgentStart{entry.clean_previous_stop, entry.rebooted}, stamp);
      !appended)
    return appended;
  if (auto set = SetMeta("running", "1"); !set) return set;
  if (auto set = SetMeta("boot_id", stamp.boot_id); !set) return set;
  return tx.Commit();
}

Outcome HistoryStore::AddAgentStop(const RecordStamp& stamp) {
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  auto stmt =
      db_->Prepare("UPDATE agent_runs SET stopped = ? WHERE id = (SELECT max(id) FROM agent_runs)");
  if (!stmt) return Error{stmt.error()};
  if (auto done = (*stmt)->Bind(1, stamp.wall).Run(); !done) return done;
  if (auto appended = AppendRecord(protocol::AgentStop{}, stamp); !appended) return appended;
  if (auto set = SetMeta("running", "0"); !set) return set;
  return tx.Commit();
}

std::optional<std::string> HistoryStore::ContractRefusal(const protocol::RecordBody& body,
                                                         const RecordStamp& stamp) const {
  const protocol::Record probe{
      {node_id_, 1, 1, GenesisHash(), stamp.wall, stamp.boot_id, stamp.mono_ms, agent_version_},
      body};
  auto decoded = protocol::DecodeRecord(protocol::EncodeRecord(probe));
  if (decoded) return std::nullopt;
  return decoded.error();
}

Outcome HistoryStore::AddAck(const AckEntry& entry, const RecordStamp& stamp) {
  protocol::Ack ack{entry.incident, entry.at, entry.by, entry.via, entry.note};
  if (auto why = ContractRefusal(ack, stamp)) return Error{"ack: " + *why};
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  auto known = db_->Prepare("SELECT 1 FROM incidents WHERE id = ?");
  if (!known) return Error{known.error()};
  (*known)->Bind(1, entry.incident);
  auto row = (*known)->Step();
  if (!row) return Error{row.error()};
  if (!*row) return Error{"ack: no incident " + std::to_string(entry.incident) + " in the history"};
  (*known)->Reset();
  auto stmt =
      db_->Prepare("INSERT INTO acks(incident, at, by, via, note, recorded) VALUES(?,?,?,?,?,?)");
  if (!stmt) return Error{stmt.error()};
  auto done = (*stmt)
                  ->Bind(1, entry.incident)
                  .Bind(2, entry.at)
                  .Bind(3, std::string_view(entry.by))
                  .Bind(4, protocol::AckViaName(entry.via))
                  .Bind(5, entry.note)
                  .Bind(6, stamp.wall)
                  .Run();
  if (!done) return Error{"ack: " + done.error()};
  if (auto appended = AppendRecord(std::move(ack), stamp); !appended) {
    return Error{"ack record: " + appended.error()};
  }
  return tx.Commit();
}

Outcome HistoryStore::AddMaintenance(const MaintenanceEntry& entry, const RecordStamp& stamp) {
  protocol::Maintenance window{entry.from, entry.until, entry.reason, entry.by};
  if (auto why = ContractRefusal(window, stamp)) return Error{"maintenance: " + *why};
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  auto stmt = db_->Prepare(
      "INSERT INTO maintenance_windows(from_at, until_at, reason, by, recorded) "
      "VALUES(?,?,?,?,?)");
  if (!stmt) return Error{stmt.error()};
  auto done = (*stmt)
                  ->Bind(1, entry.from)
                  .Bind(2, entry.until)
                  .Bind(3, std::string_view(entry.reason))
                  .Bind(4, std::string_view(entry.by))
                  .Bind(5, stamp.wall)
                  .Run();
  if (!done) return Error{"maintenance: " + done.error()};
  if (auto appended = AppendRecord(std::move(window), stamp); !appended) {
    return Error{"maintenance record: " + appended.error()};
  }
  return tx.Commit();
}

Outcome HistoryStore::FollowKey() {
  auto kid = Meta("node_kid");
  if (!kid) return Error{kid.error()};
  if (!*kid || !key_ || **kid == key_->kid) return Success();
  auto found = FindNodeKey(state_dir_, **kid);
  if (!found) return Error{"the history names kid " + **kid + " the node key: " + found.error()};
  key_ = std::move(found).value();
  return Success();
}

Result<std::optional<std::string>> HistoryStore::CurrentKid() {
  auto kid = Meta("node_kid");
  if (!kid) return Error{kid.error()};
  if (*kid) return *kid;
  if (key_) return std::optional<std::string>(key_->kid);
  return std::optional<std::string>();
}

Result<KeyRotateEntry> HistoryStore::AddKeyRotate(const NodeKey& next, const RecordStamp& stamp) {
  if (!key_) return Error{"key_rotate: no node key to sign it with"};
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return Error{"key_rotate: " + begun.error()};
  if (auto followed = FollowKey(); !followed) return Error{"key_rotate: " + followed.error()};
  const NodeKey old = *key_;
  if (next.kid == old.kid) return Error{"key_rotate: the new key is the current one"};
  // Not before any record the old key signed: the receiver refuses what it signs after t.
  auto latest = db_->Prepare("SELECT coalesce(max(t), 0) FROM records");
  if (!latest) return Error{"key_rotate: " + latest.error()};
  auto row = (*latest)->Step();
  if (!row) return Error{"key_rotate: " + row.error()};
  RecordStamp at = stamp;
  at.wall = std::max<UnixSeconds>(stamp.wall, (*latest)->Int(0));
  latest->reset();
  auto epoch = MetaInt("epoch", 1);
  if (!epoch) return Error{"key_rotate: " + epoch.error()};
  auto seq = MetaInt("next_seq", 1);
  if (!seq) return Error{"key_rotate: " + seq.error()};
  protocol::KeyRotate rotate{
      next.public_key, next.kid,
      protocol::SignKeyProof({node_id_, old.kid, next.kid, at.wall}, next.secret_key)};
  if (auto appended = AppendRecord(std::move(rotate), at); !appended) {
    return Error{"key_rotate record: " + appended.error()};
  }
  auto after = MetaInt("next_seq", 1);
  if (!after) return Error{"key_rotate: " + after.error()};
  if (*after != *seq + 1) return Error{"key_rotate: the record was not made"};
  if (auto set = SetMeta("node_kid", next.kid); !set) return Error{"key_rotate: " + set.error()};
  if (auto done = tx.Commit(); !done) return Error{"key_rotate: " + done.error()};
  key_ = next;
  return KeyRotateEntry{old.kid, next.kid, at.wall, *epoch, *seq};
}

Outcome HistoryStore::AddRemediation(RemediationEntry entry, const RecordStamp& stamp) {
  // Text from the node (a check's summary, a path) is cut to the contract's bounds: a
  // remediation is recorded whatever the check said.
  entry.reason = TruncateUtf8(entry.reason, protocol::kMaxTextBytes);
  if (entry.changed) entry.changed = TruncateUtf8(*entry.changed, protocol::kMaxTextBytes);
  entry.target = TruncateUtf8(entry.target, protocol::kMaxJobBytes);
  if (auto why = ContractRefusal(entry, stamp)) return Error{"remediation: " + *why};
  SqliteTransaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  auto stmt = db_->Prepare(
      "INSERT INTO remediations(check_name, target, action, reason, attempt, started, finished, "
      "outcome, changed, incident) VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (!stmt) return Error{stmt.error()};
  (*stmt)
      ->Bind(1, std::string_view(entry.check))
      .Bind(2, std::string_view(entry.target))
      .Bind(3, protocol::RemedyActionName(entry.action))
      .Bind(4, std::string_view(entry.reason))
      .Bind(5, entry.attempt)
      .Bind(6, entry.started)
      .Bind(7, entry.finished)
      .Bind(8, protocol::RemedyOutcomeName(entry.outcome))
      .Bind(9, entry.changed);
  if (entry.incident) {
    (*stmt)->Bind(10, *entry.incident);
  } else {
    (*stmt)->BindNull(10);
  }
  if (auto done = (*stmt)->Run(); !done) return Error{"remediation: " + done.error()};
  if (auto appended = AppendRecord(std::move(entry), stamp); !appended) {
    return Error{"remediation record: " + appended.error()};
  }
  return tx.Commit();
}

Result<std::vector<RemediationEntry>> HistoryStore::Remediations(UnixSeconds begin,
                                                                 UnixSeconds end) {
  auto stmt = db_->Prepare(
      "SELECT check_name, target, action, reason, attempt, started, finished, outcome, changed, "
      "incident FROM remediations WHERE started >= ? AND started < ? ORDER BY started, id");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, begin).Bind(2, end);
  std::vector<RemediationEntry> done;
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    RemediationEntry entry;
    entry.check = (*stmt)->Text(0);
    entry.target = (*stmt)->Text(1);
    entry.action = protocol::ParseRemedyAction((*stmt)->Text(2))
                       .value_or(protocol::RemedyAction::kRestartUnit);
    entry.reason = (*stmt)->Text(3);
    entry.attempt = (*stmt)->Int(4);
    entry.started = (*stmt)->Int(5);
    entry.finished = (*stmt)->Int(6);
    entry.outcome =
        protocol::ParseRemedyOutcome((*stmt)->Text(7)).value_or(protocol::RemedyOutcome::kFailed);
    if (!(*stmt)->IsNull(8)) entry.changed = (*stmt)->Text(8);
    if (!(*stmt)->IsNull(9)) entry.incident = (*stmt)->Int(9);
    done.push_back(std::move(entry));
  }
  return done;
}

Result<MinuteCounts> HistoryStore::CountMinutes(UnixSeconds begin, UnixSeconds end) {
  auto stmt = db_->Prepare(
      "SELECT coalesce(sum(up), 0), count(*) - coalesce(sum(up), 0) FROM heartbeats "
      "WHERE minute >= ? AND minute < ?");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, MinuteOf(begin)).Bind(2, MinuteOf(end));
  auto row = (*stmt)->Step();
  if (!row) return Error{row.error()};
  return MinuteCounts{(*stmt)->Int(0), (*stmt)->Int(1)};
}

Result<std::vector<TaskEntry>> HistoryStore::Tasks(UnixSeconds begin, UnixSeconds end) {
  auto stmt = db_->Prepare(
      "SELECT job, name, run_at, run_at_unix, ok, error FROM tasks "
      "WHERE run_at_unix >= ? AND run_at_unix < ? ORDER BY run_at_unix");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, begin).Bind(2, end);
  std::vector<TaskEntry> tasks;
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    TaskEntry task;
    task.job = (*stmt)->Text(0);
    task.name = (*stmt)->Text(1);
    task.run_at = (*stmt)->Text(2);
    task.run_at_unix = (*stmt)->Int(3);
    task.ok = (*stmt)->Int(4) != 0;
    if (!(*stmt)->IsNull(5)) task.error = (*stmt)->Text(5);
    tasks.push_back(std::move(task));
  }
  return tasks;
}

namespace {

Result<std::vector<IncidentEntry>> ReadIncidents(SqliteStatement& stmt) {
  std::vector<IncidentEntry> incidents;
  for (;;) {
    auto row = stmt.Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    IncidentEntry incident;
    incident.id = stmt.Int(0);
    incident.check = stmt.Text(1);
    incident.opened = stmt.Int(2);
    if (!stmt.IsNull(3)) incident.closed = stmt.Int(3);
    incident.summary = stmt.Text(4);
    if (!stmt.IsNull(5)) incident.acked = stmt.Int(5);
    incidents.push_back(std::move(incident));
  }
  return incidents;
}

}  // namespace

Result<std::vector<IncidentEntry>> HistoryStore::Incidents(UnixSeconds begin, UnixSeconds end) {
  auto stmt = db_->Prepare(
      "SELECT id, check_name, opened, closed, summary, "
      "(SELECT min(at) FROM acks WHERE acks.incident = incidents.id) FROM incidents "
      "WHERE opened < ? AND (closed IS NULL OR closed >= ?) ORDER BY opened");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, end).Bind(2, begin);
  return ReadIncidents(**stmt);
}

Result<std::vector<IncidentEntry>> HistoryStore::OpenIncidents() {
  auto stmt = db_->Prepare(
      "SELECT id, check_name, opened, closed, summary, "
      "(SELECT min(at) FROM acks WHERE acks.incident = incidents.id) FROM incidents "
      "WHERE closed IS NULL");
  if (!stmt) return Error{stmt.error()};
  return ReadIncidents(**stmt);
}

Result<std::vector<DiskSample>> HistoryStore::DiskSamples(UnixSeconds begin, UnixSeconds end) {
  auto stmt = db_->Prepare(
      "SELECT t, path, used_bytes, size_bytes FROM disk_samples WHERE t >= ? AND t < ? "
      "ORDER BY path, t");
  if (!stmt) return Error{stmt.error()};
  (*stmt)->Bind(1, begin).Bind(2, end);
  std::vector<DiskSample> samples;
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    samples.push_back({(*stmt)->Int(0), (*stmt)->Text(1),
                       static_cast<std::uint64_t>((*stmt)->Int(2)),
                       static_cast<std::uint64_t>((*stmt)->Int(3))});
  }
  return samples;
}

Result<std::vector<std::string>> HistoryStore::SignedRecords() {
  auto stmt = db_->Prepare("SELECT jws FROM records WHERE jws IS NOT NULL ORDER BY epoch, seq");
  if (!stmt) return Error{stmt.error()};
  std::vector<std::string> records;
  for (;;) {
    auto row = (*stmt)->Step();
    if (!row) return Error{row.error()};
    if (!*row) break;
    records.push_back((*stmt)->Text(0));
  }
  return records;
}

Result<SpoolState> HistoryStore::SpoolStatus() { return ReadSpoolState(*db_); }

Result<HistorySize> HistoryStore::Size() {
  auto stmt = db_->Prepare(
      "SELECT (SELECT count(*) FROM heartbeats), (SELECT min(minute) FROM heartbeats), "
      "(SELECT max(minute) FROM heartbeats), (SELECT count(*) FROM tasks), "
      "(SELECT count(*) FROM tasks WHERE ok = 0), (SELECT count(*) FROM incidents), "
      "(SELECT count(*) FROM incidents WHERE closed IS NULL), (SELECT count(*) FROM agent_runs), "
      "(SELECT count(*) FROM records)");
  if (!stmt) return Error{stmt.error()};
  auto row = (*stmt)->Step();
  if (!row) return Error{row.error()};
  if (!*row) return Error{"no row from the history's size query"};
  const SqliteStatement& s = **stmt;
  HistorySize size;
  size.heartbeats = s.Int(0);
  if (!s.IsNull(1)) size.first_heartbeat = s.Int(1);
  if (!s.IsNull(2)) size.last_heartbeat = s.Int(2);
  size.tasks = s.Int(3);
  size.tasks_failed = s.Int(4);
  size.incidents = s.Int(5);
  size.incidents_open = s.Int(6);
  size.agent_starts = s.Int(7);
  size.spool_records = s.Int(8);
  return size;
}

}  // namespace fleet
