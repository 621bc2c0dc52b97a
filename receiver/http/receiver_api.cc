#include "receiver/http/receiver_api.h"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/utc_time.h"
#include "receiver/core/ingest.h"
#include "receiver/http/refusal_log.h"

namespace fleet::receiver {
namespace {

// The media type of a Content-Type value, lower case, without parameters.
std::string MediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && std::isspace(static_cast<unsigned char>(content_type.back()))) {
    content_type.remove_suffix(1);
  }
  while (!content_type.empty() && std::isspace(static_cast<unsigned char>(content_type.front()))) {
    content_type.remove_prefix(1);
  }
  std::string out(content_type);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

void ReceiverApi::Handle(HttpRequest request, HttpRespond respond) {
  if (request.path == "/v1/records") {
    if (request.method != "POST") {
      auto reply = JsonError(405, "use POST on /v1/records");
      reply.allow = "POST";
      return respond(std::move(reply));
    }
    return PostRecords(std::move(request), std::move(respond));
  }
  if (request.path == "/healthz") {
    if (request.method != "GET") {
      auto reply = JsonError(405, "use GET on /healthz");
      reply.allow = "GET";
      return respond(std::move(reply));
    }
    return Health(std::move(respond));
  }
  if (open_enrol_link_ && (request.path == "/v1/enroll" || request.path == "/v1/enroll/nonce")) {
    if (request.method != "POST") {
      auto reply = JsonError(405, "use POST on " + request.path);
      reply.allow = "POST";
      return respond(std::move(reply));
    }
    return Enrol(std::move(request), std::move(respond));
  }
  respond(JsonError(404, "no such path (POST /v1/records, GET /healthz)"));
}

void ReceiverApi::EnableEnrolment(LinkOpener open, int attempts_per_minute) {
  open_enrol_link_ = std::move(open);
  enrol_limiter_ = std::make_unique<AttemptLimiter>(attempts_per_minute);
}

void ReceiverApi::Enrol(HttpRequest request, HttpRespond respond) {
  const std::int64_t now = clock_();
  if (!enrol_limiter_->Allow(request.peer, now)) {
    LogRefusal("enrol 429", request.peer,
               "refused an enrolment attempt (429) from " + request.peer + ": too many");
    return respond(JsonError(429, "more than " + std::to_string(kEnrolAttemptsPerMinute) +
                                      " enrolment attempts a minute from " + request.peer +
                                      ": wait a minute"));
  }
  std::lock_guard lock(enrol_mutex_);
  if (!enrol_link_) {
    auto opened = open_enrol_link_();
    if (!opened) return respond(JsonError(503, "enrolment: " + opened.error()));
    enrol_link_ = std::move(opened).value();
  }
  Enrolments enrolments(*enrol_link_);
  if (request.path == "/v1/enroll/nonce") {
    auto nonce = enrolments.IssueNonce(now);
    if (!nonce) return respond(JsonError(503, "enrolment: " + nonce.error()));
    return respond(
        {200, DumpJson({{"nonce", *nonce}, {"expires_at", FormatUtc(now + kNonceSeconds)}}), ""});
  }
  if (MediaType(request.content_type) != "application/json") {
    return respond(JsonError(415, "Content-Type must be application/json"));
  }
  auto parsed = ParseEnrolRequest(request.body);
  if (!parsed) return respond(JsonError(400, parsed.error()));
  auto outcome = enrolments.Enrol(*parsed, now);
  if (!outcome) return respond(JsonError(503, "enrolment: " + outcome.error()));
  if (const auto* refused = std::get_if<EnrolRefusal>(&*outcome)) {
    if (refused->foundation_event) {
      spdlog::warn("enrolment: {} sent, as node {}, the public key of a registered node: {}",
                   request.peer, PrintableAscii(parsed->node, 64), refused->reason);
    } else {
      LogRefusal("enrol " + std::to_string(refused->status), request.peer,
                 "refused an enrolment (" + std::to_string(refused->status) + ") from " +
                     request.peer + ": " + refused->reason);
    }
    return respond(JsonError(refused->status, refused->reason));
  }
  const auto& done = std::get<Enrolled>(*outcome);
  spdlog::info("enrolled node {} (operator {}, kid {}) from {}", done.node, done.operator_id,
               done.kid, request.peer);
  respond({200,
           DumpJson({{"node", done.node},
                     {"operator", done.operator_id},
                     {"kid", done.kid},
                     {"registered_at", FormatUtc(done.registered_at)}}),
           ""});
}

void ReceiverApi::PostRecords(HttpRequest request, HttpRespond respond) {
  if (MediaType(request.content_type) != "application/x-ndjson") {
    LogRefusal("batch 415", request.peer,
               "refused a batch (415) from " + request.peer + ": Content-Type '" +
                   request.content_type.substr(0, 80) + "'");
    return respond(JsonError(415, "Content-Type must be application/x-ndjson"));
  }
  const std::int64_t now = clock_();
  const KeyLookup registry = [this](const std::string& kid) {
    std::lock_guard lock(keys_mutex_);
    return keys_.FindKey(kid);
  };
  PreparedBatch batch = PrepareBatch(
      request.body, [&](const std::string& kid) { return unknown_kids_.Find(kid, now, registry); },
      now);
  if (metrics_) metrics_->CountPrepared(batch);
  const std::size_t valid = batch.records.size(), prepared_rejected = batch.rejected.size();
  const bool may_alert =
      on_alert_records_ &&
      std::any_of(batch.records.begin(), batch.records.end(), [](const VerifiedRecord& r) {
        return r.type == "incident" || r.type == "ack" || r.type == "maintenance";
      });
  committer_.Submit(std::move(batch), [this, may_alert, respond = std::move(respond),
                                       peer = std::move(request.peer), valid,
                                       prepared_rejected](IngestReply reply) {
    if (metrics_) metrics_->CountApplied(valid, prepared_rejected, reply);
    if (may_alert && reply.status == 200 && reply.body.value("stored", 0) > 0) {
      on_alert_records_();
    }
    const nlohmann::json& body = reply.body;
    if (reply.status != 200) {
      // No record of the batch verified: anyone can cause this, so it is rate-limited.
      LogRefusal("batch " + std::to_string(reply.status), peer,
                 "refused a batch (" + std::to_string(reply.status) + ") from " + peer + ": " +
                     body.value("error", std::string("?")));
    } else {
      const std::string node = body.value("node", std::string("?"));
      if (auto rejected = body.find("rejected"); rejected != body.end() && !rejected->empty()) {
        LogNodeRefusal("node " + node + ": " + std::to_string(rejected->size()) +
                       " record(s) rejected, first: " + DumpJson((*rejected)[0]));
      }
      if (auto forks = body.find("forks"); forks != body.end() && !forks->empty()) {
        LogNodeRefusal("node " + node + ": " + std::to_string(forks->size()) +
                       " record(s) clash with stored ones (forks, kept aside), first seq " +
                       DumpJson((*forks)[0]));
      }
    }
    respond({reply.status, DumpJson(reply.body), ""});
  });
}

void ReceiverApi::Health(HttpRespond respond) {
  committer_.Ping([respond = std::move(respond)](Outcome ok) {
    if (!ok) {
      return respond(
          {503, DumpJson({{"ok", false}, {"error", "database unreachable: " + ok.error()}}), ""});
    }
    respond({200, R"({"ok":true})", ""});
  });
}

}  // namespace fleet::receiver
