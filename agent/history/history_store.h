// HistoryStore: the node's own history in one SQLite database (WAL, synchronous=FULL) in
// the state directory: a heartbeat per UTC minute, finished cron runs (tasks, each once by
// job id + run time), incidents, acknowledgements of their alerts, maintenance windows,
// what the agent did to fix things (remediations),
// disk samples for the trend, agent starts and stops, and
// for every entry a record (encoded by the wire contract, protocol/records.h)
// appended in the same transaction, so history and outbound records never disagree. A
// record over kMaxRecordBytes (the receiver's bound) is never made: counted in meta
// `oversized_records` instead, its history row kept, no seq taken. Not
// thread-safe: the daemon owns one instance on its loop thread; readers open their own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/history/spool.h"
#include "agent/records/node_key.h"
#include "base/result.h"
#include "base/sqlite_db.h"
#include "base/utc_time.h"
#include "core/status.h"
#include "protocol/records.h"

namespace fleet {

// What every record carries besides its own fields.
struct RecordStamp {
  UnixSeconds wall = 0;
  std::string boot_id;
  std::int64_t mono_ms = 0;  // CLOCK_BOOTTIME
};

struct HeartbeatEntry {
  UnixMinute minute = 0;
  bool up = false;
  std::map<std::string, Status> checks;
  bool ntp_synced = false;
};

struct TaskEntry {
  std::string job;
  std::string name;
  std::string run_at;           // the job's last_run_at, verbatim
  UnixSeconds run_at_unix = 0;  // parsed, for periods
  bool ok = false;
  std::optional<std::string> error;
};

struct IncidentEntry {
  std::int64_t id = 0;
  std::string check;
  UnixSeconds opened = 0;
  std::optional<UnixSeconds> closed;
  std::string summary;
  std::optional<UnixSeconds> acked;  // the first acknowledgement (AddAck), when read back
};

struct DiskSample {
  UnixSeconds t = 0;
  std::string path;
  std::uint64_t used_bytes = 0;
  std::uint64_t size_bytes = 0;  // used + available, as df's Use% counts it
};

struct AgentStartEntry {
  bool clean_previous_stop = true;
  bool rebooted = false;
};

// Someone acknowledged the alert of one of this history's incidents (an `ack` record).
struct AckEntry {
  std::int64_t incident = 0;  // OpenIncident's id
  UnixSeconds at = 0;         // when it was acknowledged
  std::string by;             // a Telegram user name or id, a local user: 1..64 bytes
  protocol::AckVia via = protocol::AckVia::kCli;
  std::optional<std::string> note;
};

// Alerts silenced from `from` to `until` (a `maintenance` record); uptime is measured as ever.
struct MaintenanceEntry {
  UnixSeconds from = 0;
  UnixSeconds until = 0;  // after from, at most 30 days
  std::string reason;
  std::string by;
};

// What the agent did to fix something, or would have in dry-run (a `remediation` record);
// the fields are the contract's (protocol/records.h).
using RemediationEntry = protocol::Remediation;

// A key_rotate record made (AddKeyRotate).
struct KeyRotateEntry {
  std::string old_kid;
  std::string new_kid;
  UnixSeconds t = 0;  // the record's t
  std::int64_t epoch = 0;
  std::int64_t seq = 0;
};

// How much history the node keeps (the tables, not the spool, which shrinks as records
// are acknowledged).
struct HistorySize {
  std::int64_t heartbeats = 0;
  std::optional<UnixMinute> first_heartbeat;
  std::optional<UnixMinute> last_heartbeat;
  std::int64_t tasks = 0;
  std::int64_t tasks_failed = 0;
  std::int64_t incidents = 0;
  std::int64_t incidents_open = 0;
  std::int64_t agent_starts = 0;
  std::int64_t spool_records = 0;  // records awaiting acknowledgement
};

struct MinuteCounts {
  std::int64_t up = 0;
  std::int64_t down = 0;  // measured, down
};

class HistoryStore {
 public:
  // Opens or creates <state_dir>/history.db. read_only: for `report` and `status`, which
  // must never take the daemon's write lock. With a key, every record is signed when made
  // (a compact JWS whose payload carries `prev`, the chain hash of the previous record),
  // in the same transaction that takes its seq.
  // `first_epoch` is the epoch of a history created now: 1 for a new node, something no
  // earlier epoch can hold when the spool was lost but the node key survived.
  static Result<std::unique_ptr<HistoryStore>> Open(const std::string& state_dir, bool read_only,
                                                    std::string node_id, std::string agent_version,
                                                    std::optional<NodeKey> key = std::nullopt,
                                                    std::int64_t first_epoch = 1);
  // Above this many bytes of spooled records, records other than heartbeats are shed (not
  // made; their history rows stay) and counted in meta `shed_records`.
  void SetSpoolLimit(std::uint64_t bytes) { spool_limit_ = bytes; }

  // The signed records still in the spool, oldest first (one compact JWS each).
  Result<std::vector<std::string>> SignedRecords();

  // Each Add* writes the entry and its record in one transaction.
  // Heartbeats: at most one per minute; false when the minute already had one.
  Result<bool> AddHeartbeat(const HeartbeatEntry& entry, const RecordStamp& stamp);
  // Tasks: false when this (job, run_at) was already counted.
  Result<bool> AddTask(const TaskEntry& entry, const RecordStamp& stamp);
  Result<std::int64_t> OpenIncident(const std::string& check, const std::string& summary,
                                    const RecordStamp& stamp);
  Outcome CloseIncident(std::int64_t id, const RecordStamp& stamp);
  Outcome AddDiskSample(const DiskSample& sample);
  Outcome AddAgentStart(const AgentStartEntry& entry, const RecordStamp& stamp);
  Outcome AddAgentStop(const RecordStamp& stamp);
  // An entry the record contract would refuse (protocol/records.h: `by` empty or over 64
  // bytes, a control character, a window over 30 days...) is an Error naming the field and
  // nothing is written, rather than a record the receiver refuses for good; so is an ack of
  // an incident this history does not have. An ack of a closed incident is kept.
  Outcome AddAck(const AckEntry& entry, const RecordStamp& stamp);
  Outcome AddMaintenance(const MaintenanceEntry& entry, const RecordStamp& stamp);
  // The reason, `changed` and target are first cut to the contract's bounds (UTF-8 kept
  // whole), so what a check said never keeps a remediation off the record.
  Outcome AddRemediation(RemediationEntry entry, const RecordStamp& stamp);

  // The node moves to `next` (node.key.next, written and synced before): one transaction
  // appends the key_rotate record, signed by the current key and carrying next's proof
  // (protocol/key_proof.h), and names next the current key (meta node_kid), so every record
  // after it is signed with next, by this store and by any other open on the history (each
  // append reads node_kid and loads that key from the state directory). Its t is the
  // latest of the stamp and every record's t: the old key signs nothing dated after it. The
  // record is never shed (a full spool sheds detail, never this). Needs the key.
  Result<KeyRotateEntry> AddKeyRotate(const NodeKey& next, const RecordStamp& stamp);
  // The kid of the key that signs the next record (meta node_kid; the key given to Open
  // before any rotation; nullopt without either).
  Result<std::optional<std::string>> CurrentKid();

  // Key/value state that survives restarts (last boot id, clean-stop flag).
  Result<std::optional<std::string>> Meta(const std::string& key);
  Outcome SetMeta(const std::string& key, const std::string& value);

  // Queries over [begin, end).
  Result<MinuteCounts> CountMinutes(UnixSeconds begin, UnixSeconds end);
  Result<std::vector<TaskEntry>> Tasks(UnixSeconds begin, UnixSeconds end);
  // Incidents open at any time within the period, and still-open ones.
  Result<std::vector<IncidentEntry>> Incidents(UnixSeconds begin, UnixSeconds end);
  Result<std::vector<IncidentEntry>> OpenIncidents();
  Result<std::vector<DiskSample>> DiskSamples(UnixSeconds begin, UnixSeconds end);
  // Remediations started within the period, oldest first.
  Result<std::vector<RemediationEntry>> Remediations(UnixSeconds begin, UnixSeconds end);
  // All of HistorySize in one statement: one short read transaction (a snapshot; in WAL
  // mode it neither waits for nor blocks the daemon's writes).
  Result<HistorySize> Size();
  Result<SpoolState> SpoolStatus();

 private:
  HistoryStore(std::unique_ptr<SqliteDb> db, std::string state_dir, std::string node_id,
               std::string agent_version, std::optional<NodeKey> key);
  // Inside the open transaction: key_ becomes the key the history names (meta node_kid).
  Outcome FollowKey();
  Outcome CreateSchema(std::int64_t first_epoch);
  // Appends the record of `body` (encoded by the contract, protocol/records.h) inside the
  // open transaction.
  Outcome AppendRecord(protocol::RecordBody body, const RecordStamp& stamp);
  Result<std::int64_t> MetaInt(const std::string& key, std::int64_t fallback);
  // Why the record contract would refuse a record of `body` made now (nullopt: it would
  // not): the receiver decodes every record under it.
  std::optional<std::string> ContractRefusal(const protocol::RecordBody& body,
                                             const RecordStamp& stamp) const;

  std::unique_ptr<SqliteDb> db_;
  std::string state_dir_;
  std::string node_id_;
  std::string agent_version_;
  std::optional<NodeKey> key_;
  std::uint64_t spool_limit_ = 256ull * 1024 * 1024;
};

}  // namespace fleet
