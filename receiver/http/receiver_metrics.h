// ReceiverMetrics: the receiver's counters for Prometheus (GET /metrics, text format 0.0.4,
// base/prometheus_text.h), kept in memory in atomics: no lock on the ingest path, a few relaxed
// increments per batch, none per record. Counted: records ingested (stored, duplicate, fork) and
// refused by reason, a closed set (kRefusalNames: never the free-text reason); requests by route
// class (records, health, metrics, other) and status class, with a latency histogram per route
// class (from the handler's call to its answer: requests the server refuses itself, 413, 431,
// timeouts, never reach it); and the store's commit latency (GroupCommitter::OnCommit). At a
// scrape, the fleet's state (receiver/report/node_states.h) comes from a callback.
// ReceiverFamilies turns a snapshot into metric families: pure, so the exposition is tested
// without a server. Serve wraps the API's handler: it times every request and answers
// `GET /metrics` itself (405 for another method), as openly as /healthz (no token yet).
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "base/prometheus_text.h"
#include "receiver/core/ingest.h"
#include "receiver/http/http_server.h"
#include "receiver/report/node_states.h"

namespace fleet::receiver {

enum class RouteClass { kRecords = 0, kHealth = 1, kMetrics = 2, kOther = 3 };
inline constexpr std::array<std::string_view, 4> kRouteNames = {"records", "health", "metrics",
                                                                "other"};
RouteClass RouteOf(std::string_view path);

// Why a record was refused.
enum class Refusal {
  kInvalid = 0,        // malformed, bad signature, bad payload (RejectKind::kInvalid)
  kUnknownKey = 1,     // kid not registered
  kRevokedKey = 2,     // signed after its node's revocation
  kRegistryError = 3,  // the registry could not be read
  kIngestRule = 4,     // refused when applied: over the per-minute bound, a refused key move
  kStoreFailed = 5,    // verified, but the store failed (503)
};
inline constexpr std::array<std::string_view, 6> kRefusalNames = {
    "invalid", "unknown_key", "revoked_key", "registry_error", "ingest_rule", "store_failed"};
inline constexpr std::array<std::string_view, 4> kStatusClasses = {"2xx", "3xx", "4xx", "5xx"};

struct ReceiverCounts {
  std::int64_t stored = 0;
  std::int64_t duplicates = 0;
  std::int64_t forks = 0;
  std::array<std::int64_t, kRefusalNames.size()> refused{};
  // [route][status class]
  std::array<std::array<std::int64_t, kStatusClasses.size()>, kRouteNames.size()> requests{};
  std::array<HistogramSample, kRouteNames.size()> request_latency;
  HistogramSample commit_latency;
};

// The fleet at a scrape; nullopt when it could not be read (fleet_receiver_fleet_read_ok 0).
using FleetGauge = std::function<std::optional<FleetStates>()>;

std::vector<MetricFamily> ReceiverFamilies(const ReceiverCounts& counts,
                                           const std::optional<FleetStates>& fleet);

class ReceiverMetrics {
 public:
  // A verified batch: its lines refused at verification.
  void CountPrepared(const PreparedBatch& batch);
  // Its reply once applied: valid_records were handed to the store, prepared_rejected lines were
  // already counted by CountPrepared.
  void CountApplied(std::size_t valid_records, std::size_t prepared_rejected,
                    const IngestReply& reply);
  void ObserveRequest(RouteClass route, int status, std::chrono::nanoseconds elapsed);
  void ObserveCommit(std::chrono::nanoseconds elapsed) { commit_latency_.Observe(elapsed); }
  ReceiverCounts Snapshot() const;
  // The exposition now.
  std::string Render(const FleetGauge& fleet) const;

  // `inner` with every request timed, and GET /metrics answered here.
  HttpHandler Serve(HttpHandler inner, FleetGauge fleet);

 private:
  void Add(std::atomic<std::int64_t>& cell, std::int64_t n) {
    cell.fetch_add(n, std::memory_order_relaxed);
  }
  std::atomic<std::int64_t> stored_{0};
  std::atomic<std::int64_t> duplicates_{0};
  std::atomic<std::int64_t> forks_{0};
  std::array<std::atomic<std::int64_t>, kRefusalNames.size()> refused_{};
  std::array<std::array<std::atomic<std::int64_t>, kStatusClasses.size()>, kRouteNames.size()>
      requests_{};
  std::array<LatencyHistogram, kRouteNames.size()> request_latency_;
  LatencyHistogram commit_latency_;
};

}  // namespace fleet::receiver
