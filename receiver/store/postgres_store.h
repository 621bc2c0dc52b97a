// PostgresStore: the RecordStore in a PostgreSQL database, for a fleet served by several
// receivers at once. Same tables and results as the SQLite store; the schema is created and
// migrated on Open (postgres_schema.h). Several receivers may write one database: the
// database enforces uniqueness (PRIMARY KEY (node, epoch, seq), ON CONFLICT DO NOTHING),
// and a batch's first write locks its (node, epoch) watermark row (SELECT ... FOR UPDATE),
// so batches of one node's epoch are applied one after the other, each seeing what the
// previous committed; a batch's records and their typed rows go in one statement
// (InsertRecords); taking that lock is retried a few times on a serialization failure or
// deadlock. One transaction per batch, prepared statements. A lost connection is an error
// value, never a crash: the next call outside a transaction reconnects (and re-prepares).
// One connection: not thread-safe (see record_store.h).
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "receiver/core/record_store.h"
#include "receiver/store/pg_connection.h"

namespace fleet::receiver {

class PostgresStore : public RecordStore {
 public:
  // conninfo: a postgresql:// URI or libpq key=value text. Connects and migrates.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo);

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
  bool LastFailureRetryable() const override;
  Result<InsertResult> InsertRecord(const VerifiedRecord& record,
                                    std::int64_t received_at) override;
  Result<std::vector<InsertResult>> InsertRecords(std::span<const VerifiedRecord> records,
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
  Result<std::map<std::int64_t, std::int64_t>> CountInMinutes(
      const std::string& node, std::span<const std::int64_t> minutes) override;

  int schema_version() const { return schema_version_; }
  // The server process serving this connection (diagnostics, tests).
  int BackendPid() const { return db_->BackendPid(); }

 private:
  explicit PostgresStore(std::unique_ptr<PgConnection> db) : db_(std::move(db)) {}
  Outcome Prepare();
  // Reconnects when the connection is gone (outside a transaction only).
  Outcome EnsureConnected();
  // A statement outside a batch: reconnects and tries once more when the connection was lost.
  Result<PgResult> RunAlone(const std::string& name, const PgParams& params);
  Result<PgResult> RunInBatch(const std::string& name, const PgParams& params);
  Outcome LockWatermark(const std::string& node, std::int64_t epoch);

  std::unique_ptr<PgConnection> db_;
  int schema_version_ = 0;
  bool in_transaction_ = false;
  std::set<std::pair<std::string, std::int64_t>> locked_;  // watermark rows this batch holds
};

}  // namespace fleet::receiver
