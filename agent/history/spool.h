// Spool: the pusher's view of the records in history.db, on its own connection (the
// daemon's HistoryStore keeps writing on its thread; SQLite serialises the two). Records
// leave only when the receiver's acknowledgement covers them, or, for an epoch already
// closed, when the receiver has taken a whole batch (stored, duplicate or kept aside as a
// fork). Starting a new epoch (after the receiver shows the spool was lost or restored
// from an old copy) resets seq and the chain in the same table HistoryStore reads.
// A record the receiver refuses for good is set aside: moved, whole and in one transaction,
// to the table refused_records (kept, never pushed again, shown by `status`). The receiver
// acknowledges only along an unbroken prev chain, so nothing after it in its epoch could
// ever be acknowledged: setting aside a record of the current epoch closes that epoch in
// the same transaction (new records start the next at seq 1 from the genesis hash). The
// records after it in its epoch are re-signed, in order, onto the end of the current epoch
// (same payload; epoch, seq and prev anew), so they are acknowledged and counted: the
// receiver may hold their first copies too, which it stores but never acknowledges, and
// the reports fold the repeats (the same minute, job run or incident). Without the node
// key (Open with none) they stay and drain as a closed epoch does, stored but not counted.
// Each is re-signed by the key that signed it while that key is kept (a key the node moved
// from, until its key_rotate record is acknowledged: the receiver takes the new key only
// through that record), else by the current key (the history's node_kid). Once no
// key_rotate record waits in the spool, Remove forgets the keys moved from.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/records/node_key.h"
#include "base/result.h"
#include "base/sqlite_db.h"

namespace fleet {

struct SpooledRecord {
  std::int64_t epoch = 0;
  std::int64_t seq = 0;
  std::string jws;
};

// A record kept aside because the receiver refused it for good.
struct RefusedRecord {
  std::int64_t epoch = 0;
  std::int64_t seq = 0;
  std::string type;
  std::string reason;           // the receiver's, or the agent's own (too large to send)
  std::int64_t refused_at = 0;  // unix seconds
};

struct SpoolState {
  std::int64_t records = 0;    // awaiting acknowledgement
  std::int64_t bytes = 0;      // their JWS text, one newline each
  std::int64_t shed = 0;       // detail records not made because the spool was full
  std::int64_t oversized = 0;  // records not made: over kMaxRecordBytes (protocol/jws.h)
  std::int64_t epoch = 1;      // the epoch new records go to
  std::int64_t next_seq = 1;   // the seq the next record takes
  std::int64_t refused = 0;    // records set aside, refused for good
  std::optional<RefusedRecord> last_refused;
};

class Spool {
 public:
  // With the node key in state_dir, if there is one.
  static Result<std::unique_ptr<Spool>> Open(const std::string& state_dir);
  static Result<std::unique_ptr<Spool>> Open(const std::string& state_dir,
                                             std::optional<NodeKey> key);

  // The oldest records of the oldest epoch in the spool: at most max_records, and at most
  // max_bytes of body (JWS plus newline), but always at least one record.
  Result<std::vector<SpooledRecord>> OldestBatch(std::size_t max_records, std::size_t max_bytes);
  // Deletes the records of `epoch` with first <= seq <= last; returns how many went.
  Result<std::int64_t> Remove(std::int64_t epoch, std::int64_t first, std::int64_t last);
  // Closes the current epoch: the next record takes seq 1 of max(current + 1, at_least),
  // chained from the genesis hash. Returns the new epoch.
  Result<std::int64_t> StartNewEpoch(std::int64_t at_least);
  // Moves the record (epoch, seq) to refused_records with `reason`; when it is of the
  // current epoch, closes that epoch as StartNewEpoch(0) does, and returns the new epoch;
  // with the key, re-signs the records after it in its epoch onto the current one.
  // A record no longer in the spool changes nothing.
  Result<std::optional<std::int64_t>> SetAside(std::int64_t epoch, std::int64_t seq,
                                               const std::string& reason, std::int64_t now);
  Result<SpoolState> State();

 private:
  Spool(std::unique_ptr<SqliteDb> db, std::string state_dir, std::optional<NodeKey> key)
      : db_(std::move(db)), state_dir_(std::move(state_dir)), key_(std::move(key)) {}
  std::unique_ptr<SqliteDb> db_;
  std::string state_dir_;
  std::optional<NodeKey> key_;
};

// The spool's figures through a read-only connection (for `fleet-agent status`).
Result<SpoolState> ReadSpoolState(SqliteDb& db);

}  // namespace fleet
