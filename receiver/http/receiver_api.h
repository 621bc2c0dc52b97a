// ReceiverApi: the receiver's HTTP routes over a RecordStore.
//   POST /v1/records  application/x-ndjson, one compact JWS per line -> IngestBatch's reply
//                     (415 for another content type)
//   GET  /healthz     200 {"ok":true}, 503 {"ok":false,"error":...} when the store fails
//   GET  /metrics     not here: `serve` wraps Handle in ReceiverMetrics::Serve
//                     (receiver_metrics.h), which answers it; CountInto feeds it the
//                     batches' and commits' counts
// Other paths 404, other methods 405; every error is {"error":"..."}. Batches are verified on
// the calling (io) thread, reading keys through `keys` (a connection of its own, used under a
// mutex, with kids it did not know remembered for a minute: unknown_kid_cache.h), then handed to a
// GroupCommitter that owns `store`: batches arriving together are committed together, each answered
// after its commit. Handle is thread-safe and answers through `respond`. A batch that stored
// records the alert worker reads wakes it (OnAlertRecords) once committed.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "receiver/core/group_commit.h"
#include "receiver/core/record_store.h"
#include "receiver/core/unknown_kid_cache.h"
#include "receiver/http/http_server.h"
#include "receiver/http/receiver_metrics.h"

namespace fleet::receiver {

class ReceiverApi {
 public:
  // clock: unix seconds now (the receive time: records dated ahead of it are refused, and
  // it is stored with each record).
  ReceiverApi(RecordStore& store, RecordStore& keys, std::function<std::int64_t()> clock)
      : clock_(clock), keys_(keys), committer_(store, std::move(clock)) {}

  void Handle(HttpRequest request, HttpRespond respond);
  // Called on the writer thread after a commit stored records that may alert (incidents,
  // acks, maintenance windows): the alert worker's wake-up. It must not block. Set before
  // the first request.
  void OnAlertRecords(std::function<void()> stored) { on_alert_records_ = std::move(stored); }
  // Counts batches, records and commits into `metrics` (GET /metrics): set before the first
  // request; it must outlive the API.
  void CountInto(ReceiverMetrics* metrics) {
    metrics_ = metrics;
    committer_.OnCommit([metrics](std::chrono::nanoseconds took) { metrics->ObserveCommit(took); });
  }
  // Stops the writer: call before the io_context the replies go to is destroyed.
  void Stop() { committer_.Stop(); }
  GroupCommitStats Stats() const { return committer_.Stats(); }

 private:
  void PostRecords(HttpRequest request, HttpRespond respond);
  void Health(HttpRespond respond);

  std::function<std::int64_t()> clock_;
  std::mutex keys_mutex_;
  RecordStore& keys_;
  UnknownKidCache unknown_kids_;
  GroupCommitter committer_;
  std::function<void()> on_alert_records_;
  ReceiverMetrics* metrics_ = nullptr;
};

}  // namespace fleet::receiver
