// GroupCommitter: the one writer of a RecordStore. Verified batches (ingest.h's
// PrepareBatch, done by the caller's threads) handed to Submit from any thread queue up; a
// writer thread takes everything queued (up to a limit), applies it in one transaction ordered by
// node (so receivers sharing a database lock watermarks in one order) and commits once, then
// answers each batch: one fsync for many nodes' pushes. Replies are those IngestBatch would give
// each batch alone. When the shared transaction fails, it is rolled back and every batch runs again
// alone, so one batch's failure is never another's; a batch whose failure the store calls retryable
// (a PostgreSQL serialization failure or deadlock) is replayed up to kReplays times before it is
// answered 503. `done` runs on the writer thread, exactly once per Submit; it must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "receiver/core/ingest.h"
#include "receiver/core/record_store.h"

namespace fleet::receiver {

struct GroupCommitStats {
  std::int64_t transactions = 0;  // committed, shared or alone
  std::int64_t batches = 0;       // applied (refused ones are answered by Submit)
  std::int64_t replays = 0;       // batches run again after a failure
};

class GroupCommitter {
 public:
  static constexpr int kReplays = 5;
  struct Limits {
    std::size_t max_batches = 512;     // per transaction
    std::size_t max_records = 100000;  // per transaction
  };

  // clock: unix seconds now (each batch's receive time).
  GroupCommitter(RecordStore& store, std::function<std::int64_t()> clock, Limits limits);
  GroupCommitter(RecordStore& store, std::function<std::int64_t()> clock)
      : GroupCommitter(store, std::move(clock), Limits{}) {}
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // A refused batch is answered at once, on the caller's thread.
  void Submit(PreparedBatch batch, std::function<void(IngestReply)> done);
  // Asks the store whether the database answers, in turn with the batches.
  void Ping(std::function<void(Outcome)> done);
  // Finishes the transaction in hand; what is still queued is answered 503. Idempotent.
  void Stop();
  GroupCommitStats Stats() const;
  // Told, on the writer thread, how long each Commit of the store took (committed or not):
  // the receiver's metrics. Set before the first Submit; it must not block.
  void OnCommit(std::function<void(std::chrono::nanoseconds)> observe) {
    on_commit_ = std::move(observe);
  }

 private:
  struct Job {
    PreparedBatch batch;  // none for a ping
    std::function<void(IngestReply)> done;
    std::function<void(Outcome)> ping;
  };
  void Run();
  void RunGroup(std::deque<Job>& group);
  IngestReply RunAlone(const PreparedBatch& batch);
  Outcome TimedCommit();

  RecordStore& store_;
  std::function<std::int64_t()> clock_;
  Limits limits_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  GroupCommitStats stats_;
  std::function<void(std::chrono::nanoseconds)> on_commit_;
  std::thread writer_;
};

}  // namespace fleet::receiver
