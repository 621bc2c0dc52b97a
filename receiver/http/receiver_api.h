// ReceiverApi: the receiver's HTTP routes over a RecordStore.
//   POST /v1/records  application/x-ndjson, one compact JWS per line -> IngestBatch's reply
//                     (415 for another content type)
//   GET  /healthz     200 {"ok":true}, 503 {"ok":false,"error":...} when the store fails
// Other paths 404, other methods 405; every error is {"error":"..."}. Store access is
// serialised by a mutex here (one SQLite writer; one connection), so Handle is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "receiver/core/record_store.h"
#include "receiver/http/http_server.h"

namespace fleet::receiver {

class ReceiverApi {
 public:
  // clock: unix seconds now (the receive time stored with each record).
  ReceiverApi(RecordStore& store, std::function<std::int64_t()> clock)
      : store_(store), clock_(std::move(clock)) {}

  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse PostRecords(const HttpRequest& request);
  HttpResponse Health();

  std::mutex mutex_;
  RecordStore& store_;
  std::function<std::int64_t()> clock_;
};

}  // namespace fleet::receiver
