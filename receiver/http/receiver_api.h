// ReceiverApi: the receiver's HTTP routes over a RecordStore.
//   POST /v1/records  application/x-ndjson, one compact JWS per line -> IngestBatch's reply
//                     (415 for another content type)
//   GET  /healthz     200 {"ok":true}, 503 {"ok":false,"error":...} when the store fails
//   POST /v1/enroll/nonce        200 {"nonce","expires_at"}: one enrolment attempt's nonce
//   POST /v1/enroll   application/json, the node's enrolment (registry/enrolments.h) ->
//                     200 {"node","operator","kid","registered_at"}, else its refusal's
//                     status with {"error":reason}; 429 past kEnrolAttemptsPerMinute from
//                     one address (both enrol paths count). Only with EnableEnrolment: else 404.
//                     A key registered to another node is logged (warning) for the foundation.
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
#include "receiver/registry/enrolments.h"

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
  // Serves the enrolment paths over a connection of their own, opened by `open` at the first
  // enrolment request (none held until then) and used under a mutex. Set before the first
  // request.
  using LinkOpener = std::function<Result<std::unique_ptr<SqlLink>>()>;
  void EnableEnrolment(LinkOpener open, int attempts_per_minute = kEnrolAttemptsPerMinute);
  static constexpr int kEnrolAttemptsPerMinute = 10;
  // Stops the writer: call before the io_context the replies go to is destroyed.
  void Stop() { committer_.Stop(); }
  GroupCommitStats Stats() const { return committer_.Stats(); }

 private:
  void PostRecords(HttpRequest request, HttpRespond respond);
  void Health(HttpRespond respond);
  void Enrol(HttpRequest request, HttpRespond respond);

  std::function<std::int64_t()> clock_;
  std::mutex keys_mutex_;
  RecordStore& keys_;
  UnknownKidCache unknown_kids_;
  GroupCommitter committer_;
  std::function<void()> on_alert_records_;
  ReceiverMetrics* metrics_ = nullptr;
  std::mutex enrol_mutex_;
  LinkOpener open_enrol_link_;
  std::unique_ptr<SqlLink> enrol_link_;
  std::unique_ptr<AttemptLimiter> enrol_limiter_;
};

}  // namespace fleet::receiver
