#include "receiver/http/receiver_metrics.h"

#include <memory>
#include <string>

namespace fleet::receiver {

RouteClass RouteOf(std::string_view path) {
  if (path == "/v1/records") return RouteClass::kRecords;
  if (path == "/healthz") return RouteClass::kHealth;
  if (path == "/metrics") return RouteClass::kMetrics;
  return RouteClass::kOther;
}

std::vector<MetricFamily> ReceiverFamilies(const ReceiverCounts& counts,
                                           const std::optional<FleetStates>& fleet) {
  std::vector<MetricFamily> out;
  MetricFamily ingested{"fleet_receiver_records_ingested_total",
                        "Records taken by the receiver, by outcome: stored new, a duplicate of one "
                        "stored, a fork (another record at its seq, kept aside).",
                        MetricType::kCounter,
                        {},
                        {}};
  ingested.samples.push_back({{{"outcome", "stored"}}, static_cast<double>(counts.stored)});
  ingested.samples.push_back({{{"outcome", "duplicate"}}, static_cast<double>(counts.duplicates)});
  ingested.samples.push_back({{{"outcome", "fork"}}, static_cast<double>(counts.forks)});
  out.push_back(std::move(ingested));

  MetricFamily refused{"fleet_receiver_records_refused_total",
                       "Records refused, by reason.",
                       MetricType::kCounter,
                       {},
                       {}};
  for (std::size_t i = 0; i < kRefusalNames.size(); ++i) {
    refused.samples.push_back(
        {{{"reason", std::string(kRefusalNames[i])}}, static_cast<double>(counts.refused[i])});
  }
  out.push_back(std::move(refused));

  MetricFamily requests{"fleet_receiver_http_requests_total",
                        "HTTP requests answered, by route class and status class.",
                        MetricType::kCounter,
                        {},
                        {}};
  for (std::size_t r = 0; r < kRouteNames.size(); ++r) {
    for (std::size_t c = 0; c < kStatusClasses.size(); ++c) {
      requests.samples.push_back(
          {{{"route", std::string(kRouteNames[r])}, {"code", std::string(kStatusClasses[c])}},
           static_cast<double>(counts.requests[r][c])});
    }
  }
  out.push_back(std::move(requests));

  MetricFamily latency{"fleet_receiver_http_request_duration_seconds",
                       "Time from a request's arrival at the API to its answer (a batch: after "
                       "its commit), by route class.",
                       MetricType::kHistogram,
                       {},
                       {}};
  for (std::size_t r = 0; r < kRouteNames.size(); ++r) {
    HistogramSample sample = counts.request_latency[r];
    sample.labels = {{"route", std::string(kRouteNames[r])}};
    latency.histograms.push_back(std::move(sample));
  }
  out.push_back(std::move(latency));

  MetricFamily commits{"fleet_receiver_db_commit_duration_seconds",
                       "Time the database took to commit a transaction of batches.",
                       MetricType::kHistogram,
                       {},
                       {counts.commit_latency}};
  out.push_back(std::move(commits));

  out.push_back({"fleet_receiver_fleet_read_ok",
                 "1 when the node states and open alerts below were read at this scrape, else 0.",
                 MetricType::kGauge,
                 {{{}, fleet ? 1.0 : 0.0}},
                 {}});
  if (fleet) {
    MetricFamily nodes{"fleet_receiver_nodes",
                       "Registered nodes (not revoked) by state: live (last heartbeat minute ended "
                       "at most 120 s ago), late (at most silent_after), silent (older), "
                       "never_seen (none in 35 days).",
                       MetricType::kGauge,
                       {},
                       {}};
    for (std::size_t s = 0; s < kNodeStateNames.size(); ++s) {
      nodes.samples.push_back(
          {{{"state", std::string(kNodeStateNames[s])}}, static_cast<double>(fleet->nodes[s])});
    }
    out.push_back(std::move(nodes));
    out.push_back({"fleet_receiver_alerts_open",
                   "Alerts the receiver sent that are not resolved.",
                   MetricType::kGauge,
                   {{{}, static_cast<double>(fleet->open_alerts)}},
                   {}});
  }
  return out;
}

void ReceiverMetrics::CountPrepared(const PreparedBatch& batch) {
  std::array<std::int64_t, kRefusalNames.size()> by_reason{};
  for (const RejectedLine& line : batch.rejected) {
    switch (line.why.kind) {
      case RejectKind::kInvalid:
        ++by_reason[static_cast<std::size_t>(Refusal::kInvalid)];
        break;
      case RejectKind::kUnknownKey:
        ++by_reason[static_cast<std::size_t>(Refusal::kUnknownKey)];
        break;
      case RejectKind::kRevokedKey:
        ++by_reason[static_cast<std::size_t>(Refusal::kRevokedKey)];
        break;
      case RejectKind::kStoreError:
        ++by_reason[static_cast<std::size_t>(Refusal::kRegistryError)];
        break;
    }
  }
  for (std::size_t i = 0; i < by_reason.size(); ++i) {
    if (by_reason[i] != 0) Add(refused_[i], by_reason[i]);
  }
}

void ReceiverMetrics::CountApplied(std::size_t valid_records, std::size_t prepared_rejected,
                                   const IngestReply& reply) {
  if (valid_records == 0) return;  // refused at verification: counted by CountPrepared
  const auto n = static_cast<std::int64_t>(valid_records);
  if (reply.status == 503) {
    Add(refused_[static_cast<std::size_t>(Refusal::kStoreFailed)], n);
    return;
  }
  if (reply.status != 200) {  // the batch's only record was a refused key move
    Add(refused_[static_cast<std::size_t>(Refusal::kIngestRule)], n);
    return;
  }
  const nlohmann::json& body = reply.body;
  Add(stored_, body.value("stored", std::int64_t{0}));
  Add(duplicates_, body.value("duplicates", std::int64_t{0}));
  if (auto forks = body.find("forks"); forks != body.end() && forks->is_array()) {
    Add(forks_, static_cast<std::int64_t>(forks->size()));
  }
  if (auto rejected = body.find("rejected"); rejected != body.end() && rejected->is_array()) {
    const auto more =
        static_cast<std::int64_t>(rejected->size()) - static_cast<std::int64_t>(prepared_rejected);
    if (more > 0) Add(refused_[static_cast<std::size_t>(Refusal::kIngestRule)], more);
  }
}

void ReceiverMetrics::ObserveRequest(RouteClass route, int status,
                                     std::chrono::nanoseconds elapsed) {
  const auto r = static_cast<std::size_t>(route);
  const int status_class = status / 100 - 2;
  if (status_class >= 0 && status_class < static_cast<int>(kStatusClasses.size())) {
    Add(requests_[r][static_cast<std::size_t>(status_class)], 1);
  }
  request_latency_[r].Observe(elapsed);
}

ReceiverCounts ReceiverMetrics::Snapshot() const {
  ReceiverCounts out;
  out.stored = stored_.load(std::memory_order_relaxed);
  out.duplicates = duplicates_.load(std::memory_order_relaxed);
  out.forks = forks_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < refused_.size(); ++i) {
    out.refused[i] = refused_[i].load(std::memory_order_relaxed);
  }
  for (std::size_t r = 0; r < requests_.size(); ++r) {
    for (std::size_t c = 0; c < requests_[r].size(); ++c) {
      out.requests[r][c] = requests_[r][c].load(std::memory_order_relaxed);
    }
    out.request_latency[r] = request_latency_[r].Snapshot({});
  }
  out.commit_latency = commit_latency_.Snapshot({});
  return out;
}

std::string ReceiverMetrics::Render(const FleetGauge& fleet) const {
  return RenderExposition(ReceiverFamilies(Snapshot(), fleet ? fleet() : std::nullopt));
}

HttpHandler ReceiverMetrics::Serve(HttpHandler inner, FleetGauge fleet) {
  return [this, inner = std::move(inner), fleet = std::move(fleet)](HttpRequest request,
                                                                    HttpRespond respond) {
    const RouteClass route = RouteOf(request.path);
    const auto start = std::chrono::steady_clock::now();
    HttpRespond timed = [this, route, start, respond = std::move(respond)](HttpResponse response) {
      ObserveRequest(route, response.status, std::chrono::steady_clock::now() - start);
      respond(std::move(response));
    };
    if (route != RouteClass::kMetrics) return inner(std::move(request), std::move(timed));
    if (request.method != "GET") {
      HttpResponse refused = JsonError(405, "use GET on /metrics");
      refused.allow = "GET";
      return timed(std::move(refused));
    }
    HttpResponse reply{200, Render(fleet), ""};
    reply.content_type = std::string(kExpositionContentType);
    timed(std::move(reply));
  };
}

}  // namespace fleet::receiver
