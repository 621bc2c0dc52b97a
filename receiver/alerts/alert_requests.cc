#include "receiver/alerts/alert_requests.h"

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace fleet::receiver {
namespace {

using json = nlohmann::json;

std::optional<AckRequest> ReadAck(const std::string& kind, const std::string& text) {
  if (kind != "ack") return std::nullopt;
  const json p = json::parse(text, nullptr, false);
  if (!p.is_object()) return std::nullopt;
  auto integer = [&](const char* key) { return p.contains(key) && p[key].is_number_integer(); };
  auto string = [&](const char* key) { return p.contains(key) && p[key].is_string(); };
  if (!integer("key") || !integer("at") || !string("by") || !string("via")) return std::nullopt;
  AckRequest ack;
  ack.key = p["key"].get<std::int64_t>();
  ack.at = p["at"].get<std::int64_t>();
  ack.by = p["by"].get<std::string>();
  ack.via = p["via"].get<std::string>();
  if (string("note")) ack.note = p["note"].get<std::string>();
  if (integer("user_id")) ack.user_id = p["user_id"].get<std::int64_t>();
  if (string("chat_id")) ack.chat_id = p["chat_id"].get<std::string>();
  return ack;
}

}  // namespace

Result<std::int64_t> AlertRequests::Ask(const AckRequest& r, std::int64_t now) {
  json payload = {{"key", r.key}, {"by", r.by}, {"via", r.via}, {"at", r.at}};
  if (r.note) payload["note"] = *r.note;
  if (r.user_id) payload["user_id"] = *r.user_id;
  if (r.chat_id) payload["chat_id"] = *r.chat_id;
  auto rows = link_.Run(
      "INSERT INTO alert_requests (kind, payload, created) VALUES ('ack', $1, $2) RETURNING id",
      {DumpJson(payload), now});
  if (!rows) return Error{"alert requests: " + rows.error()};
  if (rows->empty()) return Error{"alert requests: no id for the request"};
  return rows->Int(0, 0);
}

Result<std::vector<PendingRequest>> AlertRequests::Pending() {
  auto rows = link_.Run(
      "SELECT id, kind, payload, created FROM alert_requests WHERE answered IS NULL "
      "ORDER BY id LIMIT 100");
  if (!rows) return Error{"alert requests: " + rows.error()};
  std::vector<PendingRequest> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->Int(i, 0), ReadAck(rows->Text(i, 1), rows->Text(i, 2)), rows->Int(i, 3)});
  }
  return out;
}

Outcome AlertRequests::Answer(std::int64_t id, const RequestAnswer& answer, std::int64_t now) {
  auto done = link_.Run(
      "UPDATE alert_requests SET answered = $2, ok = $3, answer = $4 "
      "WHERE id = $1 AND answered IS NULL",
      {id, now, std::int64_t{answer.ok}, answer.text});
  if (!done) return Error{"alert requests: " + done.error()};
  return Success();
}

Result<std::optional<RequestAnswer>> AlertRequests::AnswerOf(std::int64_t id) {
  auto rows = link_.Run(
      "SELECT ok, answer FROM alert_requests WHERE id = $1 AND answered IS NOT NULL", {id});
  if (!rows) return Error{"alert requests: " + rows.error()};
  if (rows->empty()) return std::optional<RequestAnswer>();
  return std::optional<RequestAnswer>(RequestAnswer{rows->Int(0, 0) != 0, rows->Text(0, 1)});
}

Result<bool> AlertRequests::Withdraw(std::int64_t id, std::int64_t now) {
  auto done = link_.Run(
      "UPDATE alert_requests SET answered = $2, ok = 0, answer = 'withdrawn: no answer in time' "
      "WHERE id = $1 AND answered IS NULL",
      {id, now});
  if (!done) return Error{"alert requests: " + done.error()};
  return done->affected() == 1;
}

Outcome AlertRequests::Prune(std::int64_t before) {
  auto done = link_.Run("DELETE FROM alert_requests WHERE answered IS NOT NULL AND answered < $1",
                        {before});
  if (!done) return Error{"alert requests: " + done.error()};
  return Success();
}

}  // namespace fleet::receiver
