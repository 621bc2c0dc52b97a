// SqliteStore: the RecordStore in one SQLite file (WAL, synchronous=FULL), created with its
// schema when missing. Tables: nodes (registry, public keys only), records (one row per
// (node, epoch, seq): the JWS, its payload JSON, chain fields and receive time), forks
// (records that arrived for a taken place), watermarks (ack_seq per node and epoch), and
// the decoded fields of each stored record in typed columns (heartbeats, task_runs,
// incidents, agent_starts, acks, maintenance_windows, remediations), written with the
// record; a database from before those tables gets them filled from its payloads when
// opened (PRAGMA user_version 1; 2 for acks and maintenance windows; 3 for remediations). An ack's
// row says whether it arrived live (receiver/core/live_arrival.h). Statements are prepared once and
// reused. One connection: not thread-safe (see record_store.h); other processes (the `nodes`
// commands) may use the file meanwhile.
#pragma once

#include <memory>
#include <string>

#include "base/sqlite_db.h"
#include "protocol/records.h"
#include "receiver/core/record_store.h"

namespace fleet::receiver {

class SqliteStore : public RecordStore {
 public:
  // Opens (create: creating the file and schema when missing) the database at path.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, bool create);

  Outcome AddNode(const NodeEntry& entry) override;
  Result<std::vector<NodeEntry>> ListNodes() override;
  Outcome RevokeNode(const std::string& node, std::int64_t at, const std::string& reason) override;
  Result<std::optional<RegisteredKey>> FindKey(const std::string& kid) override;
  Result<KeyRotation> AddRotatedKey(const RotatedKey& key) override;
  Result<std::vector<RotatedKey>> RotatedKeys(const std::string& node) override;
  Outcome Ping() override;
  Outcome Begin() override;
  Outcome Commit() override;
  void Rollback() override;
  Result<InsertResult> InsertRecord(const VerifiedRecord& record,
                                    std::int64_t received_at) override;
  Result<Watermark> LoadWatermark(const std::string& node, std::int64_t epoch) override;
  Outcome SaveWatermark(const std::string& node, std::int64_t epoch,
                        const Watermark& mark) override;
  Result<std::vector<StoredLink>> LinksFrom(const std::string& node, std::int64_t epoch,
                                            std::int64_t from_seq, int limit) override;
  Result<std::vector<std::pair<std::int64_t, std::int64_t>>> MissingRanges(const std::string& node,
                                                                           std::int64_t epoch,
                                                                           std::int64_t after_seq,
                                                                           int max_ranges) override;
  Result<std::int64_t> MaxEpoch(const std::string& node) override;
  Result<std::int64_t> CountInMinute(const std::string& node, std::int64_t minute) override;

  // Records the upgrade at this Open found stored under older, looser rules: no typed row,
  // so the reports leave them out (0 when there was nothing to upgrade).
  std::int64_t undecodable_records() const { return undecodable_records_; }

 private:
  explicit SqliteStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Outcome Prepare();
  Outcome Upgrade();
  // Columns added since a table was first made (ALTER TABLE on an older database).
  Outcome AddMissingColumns();
  Outcome InsertTyped(const std::string& node, std::int64_t epoch, std::int64_t seq,
                      const protocol::Record& record, std::int64_t received_at);

  std::unique_ptr<SqliteDb> db_;
  bool in_transaction_ = false;
  std::unique_ptr<SqliteStatement> insert_record_;
  std::unique_ptr<SqliteStatement> record_hash_;
  std::unique_ptr<SqliteStatement> insert_fork_;
  std::unique_ptr<SqliteStatement> load_mark_;
  std::unique_ptr<SqliteStatement> save_mark_;
  std::unique_ptr<SqliteStatement> links_from_;
  std::unique_ptr<SqliteStatement> missing_ranges_;
  std::unique_ptr<SqliteStatement> max_epoch_;
  std::unique_ptr<SqliteStatement> count_in_minute_;
  std::unique_ptr<SqliteStatement> find_key_;
  std::unique_ptr<SqliteStatement> insert_heartbeat_;
  std::unique_ptr<SqliteStatement> insert_task_;
  std::unique_ptr<SqliteStatement> insert_incident_;
  std::unique_ptr<SqliteStatement> insert_start_;
  std::unique_ptr<SqliteStatement> insert_ack_;
  std::unique_ptr<SqliteStatement> insert_maintenance_;
  std::unique_ptr<SqliteStatement> insert_remediation_;
  std::int64_t undecodable_records_ = 0;
};

}  // namespace fleet::receiver
