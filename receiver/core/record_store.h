// RecordStore: what the ingest rules need from a database, and the node registry. The
// rules (ingest.h) decide; a store only reads and writes: SQLite (store/sqlite_store.h) and
// PostgreSQL (store/postgres_store.h), behind this same interface and tested by the same suite
// (tests/receiver/store_factory.h). A store object is one connection: not thread-safe,
// callers serialise its use. Write methods are called between Begin() and Commit(); a
// batch that fails part way is rolled back with Rollback(), leaving nothing of it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "receiver/core/record_verify.h"

namespace fleet::receiver {

struct NodeEntry {
  std::string node;
  std::string operator_id;
  std::string kid;
  PublicKey key{};
  std::int64_t added_at = 0;               // unix seconds
  std::optional<std::int64_t> revoked_at;  // unix seconds, when revoked
  std::string revoke_reason;               // why (empty: none given)
};

// A key the node moved to by a key_rotate record (verified: signed by old_kid, the node's
// key, with the new key's proof; record_verify.h): from then on the receiver knows it for
// that node alone, and old_kid signs nothing after `since`.
struct RotatedKey {
  std::string node;
  std::string old_kid;
  std::string kid;
  PublicKey key{};
  std::int64_t since = 0;  // the key_rotate record's t, unix seconds
  std::int64_t epoch = 0;  // where that record is in the node's chain
  std::int64_t seq = 0;
  std::int64_t added_at = 0;  // when the receiver took it, unix seconds
};

enum class RotateResult {
  kAdded,    // registered now
  kAlready,  // the same move was registered before (the record pushed again)
  kRefused,  // the new kid is another key's, or old_kid moved to another key before
};
struct KeyRotation {
  RotateResult result = RotateResult::kAdded;
  std::string refusal;  // kRefused: why, one line
};

// The refusals of AddRotatedKey, the same from every store.
std::string RotatedKidTaken(const std::string& kid);
std::string OldKidMoved(const std::string& old_kid, const std::string& moved_to, std::int64_t at);

enum class InsertResult {
  kStored,     // new (node, epoch, seq)
  kDuplicate,  // the same record (same hash) was already stored
  kFork,       // another record holds (node, epoch, seq): this one was kept aside
};

// The acknowledged watermark of one (node, epoch): seqs 1..ack_seq are stored and linked;
// ack_hash is the hash of the record at ack_seq (GenesisHash when ack_seq is 0).
struct Watermark {
  std::int64_t ack_seq = 0;
  std::string ack_hash;
};

// The chain fields of one stored record.
struct StoredLink {
  std::int64_t seq = 0;
  std::string prev;
  std::string hash;
};

class RecordStore {
 public:
  virtual ~RecordStore() = default;

  // Node registry. AddNode fails with a clear message when the node or the kid exists.
  virtual Outcome AddNode(const NodeEntry& entry) = 0;
  virtual Result<std::vector<NodeEntry>> ListNodes() = 0;
  // Records the node signs after `at` (unix seconds) are refused with `reason`; those
  // signed before still count. Fails when the node is unknown; revoking twice keeps the
  // first time and reason.
  virtual Outcome RevokeNode(const std::string& node, std::int64_t at,
                             const std::string& reason) = 0;
  // The key of a kid: a node's first key (AddNode) or one it rotated to (AddRotatedKey),
  // with the node's revocation and, when the node moved on from it, retired_at.
  virtual Result<std::optional<RegisteredKey>> FindKey(const std::string& kid) = 0;
  // Registers the new key of a verified key_rotate record, in the caller's transaction. A
  // kid belongs to one node and one move only: a new kid already registered (a node's key,
  // a rotated key, this node's or another's) or an old_kid already moved to another key is
  // refused; the same move again is kAlready. AddNode refuses a kid registered here too.
  virtual Result<KeyRotation> AddRotatedKey(const RotatedKey& key) = 0;
  // The keys node rotated to, in the order it moved to them.
  virtual Result<std::vector<RotatedKey>> RotatedKeys(const std::string& node) = 0;

  // True when the database answers.
  virtual Outcome Ping() = 0;

  virtual Outcome Begin() = 0;
  virtual Outcome Commit() = 0;
  virtual void Rollback() = 0;
  // True when the last failure is worth replaying the whole transaction for (PostgreSQL's
  // serialization failure or deadlock); the writer then replays the batch (group_commit.h).
  virtual bool LastFailureRetryable() const { return false; }

  // Inserts once by (node, epoch, seq); a different record at a taken place goes to the
  // forks, with its receive time.
  virtual Result<InsertResult> InsertRecord(const VerifiedRecord& record,
                                            std::int64_t received_at) = 0;
  // The records of one batch (one node and epoch), in order, each stored as InsertRecord
  // would store it one after the other (a record repeated in the batch is a duplicate or a
  // fork of the first), with a result per record. A store may do it in fewer round trips;
  // this default calls InsertRecord for each.
  virtual Result<std::vector<InsertResult>> InsertRecords(std::span<const VerifiedRecord> records,
                                                          std::int64_t received_at);
  virtual Result<Watermark> LoadWatermark(const std::string& node, std::int64_t epoch) = 0;
  virtual Outcome SaveWatermark(const std::string& node, std::int64_t epoch,
                                const Watermark& mark) = 0;
  // Stored records of (node, epoch) with seq >= from_seq, by seq, at most `limit`.
  virtual Result<std::vector<StoredLink>> LinksFrom(const std::string& node, std::int64_t epoch,
                                                    std::int64_t from_seq, int limit) = 0;
  // Missing seq ranges [a, b] above after_seq and below the highest stored seq of
  // (node, epoch), lowest first, at most max_ranges.
  virtual Result<std::vector<std::pair<std::int64_t, std::int64_t>>> MissingRanges(
      const std::string& node, std::int64_t epoch, std::int64_t after_seq, int max_ranges) = 0;
  // The highest epoch with a stored record of the node (0 when none).
  virtual Result<std::int64_t> MaxEpoch(const std::string& node) = 0;
  // How many stored records of the node have a `t` in the minute starting at `minute`
  // (unix seconds), in any epoch.
  virtual Result<std::int64_t> CountInMinute(const std::string& node, std::int64_t minute) = 0;
  // CountInMinute for each of `minutes`, by minute. This default asks for each.
  virtual Result<std::map<std::int64_t, std::int64_t>> CountInMinutes(
      const std::string& node, std::span<const std::int64_t> minutes);
};

}  // namespace fleet::receiver
