#include "receiver/report/closed_statement.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "base/json_text.h"
#include "base/utc_time.h"
#include "protocol/records.h"
#include "receiver/core/live_arrival.h"
#include "receiver/report/report_format.h"

namespace fleet::receiver {
namespace {

template <typename Row, typename Key>
Outcome Each(const std::map<std::string, std::vector<Row>>& rows, const std::string& node,
             std::int64_t begin, std::int64_t end, Key key,
             const std::function<void(const Row&)>& row) {
  auto found = rows.find(node);
  if (found == rows.end()) return Success();
  for (const auto& r : found->second) {
    const std::int64_t t = key(r);
    if (t >= begin && t < end) row(r);
  }
  return Success();
}

nlohmann::json AlertRowToJson(const ReceiverAlertRow& a) {
  return {{"key", a.key},
          {"checks", a.checks},
          {"incidents", a.incidents},
          {"silent", a.silent},
          {"opened", a.opened},
          {"sent", a.sent},
          {"resolved", a.resolved ? nlohmann::json(*a.resolved) : nlohmann::json()},
          {"acked_at", a.acked_at ? nlohmann::json(*a.acked_at) : nlohmann::json()},
          {"acked_by", a.acked_by},
          {"acked_via", a.acked_via}};
}

ReceiverAlertRow AlertRowFromJson(const nlohmann::json& j) {
  ReceiverAlertRow a;
  a.key = j.value("key", std::int64_t{0});
  a.checks = j.value("checks", std::vector<std::string>{});
  a.incidents = j.value("incidents", std::vector<std::int64_t>{});
  a.silent = j.value("silent", false);
  a.opened = j.value("opened", std::int64_t{0});
  a.sent = j.value("sent", std::int64_t{0});
  if (j.contains("resolved") && j["resolved"].is_number_integer()) a.resolved = j["resolved"];
  if (j.contains("acked_at") && j["acked_at"].is_number_integer()) a.acked_at = j["acked_at"];
  a.acked_by = j.value("acked_by", std::string());
  a.acked_via = j.value("acked_via", std::string());
  return a;
}

}  // namespace

std::string RecordListText(const std::vector<StatementRecord>& records) {
  std::vector<std::string> lines;
  lines.reserve(records.size());
  for (const auto& r : records) lines.push_back(r.hash + " " + std::to_string(r.received_at));
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

std::string RecordListDigest(std::string_view list_text) { return ChainHash(list_text); }

RecordsSource::RecordsSource(Registry registry, const std::vector<StatementRecord>& records,
                             ReportSource* capture_from, nlohmann::json captured)
    : registry_(std::move(registry)), capture_from_(capture_from), captured_(std::move(captured)) {
  if (!captured_.is_object()) captured_ = nlohmann::json::object();
  std::vector<const StatementRecord*> ordered;
  for (const auto& r : records) ordered.push_back(&r);
  std::sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return std::tie(a->node, a->epoch, a->seq) < std::tie(b->node, b->epoch, b->seq);
  });
  for (const StatementRecord* r : ordered) {
    auto record = protocol::DecodeRecord(r->payload);
    if (!record) {
      ++undecoded_;
      continue;
    }
    const std::string& node = r->node;
    std::visit(
        [&](const auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, protocol::Heartbeat>) {
            beats_[node].push_back({body.minute, body.up, r->received_at});
          } else if constexpr (std::is_same_v<T, protocol::TaskRun>) {
            tasks_[node].push_back({body.job, body.run_at, body.ok});
          } else if constexpr (std::is_same_v<T, protocol::Incident>) {
            incidents_[node].push_back(
                {body.check, body.opened, body.closed, body.summary, body.id});
          } else if constexpr (std::is_same_v<T, protocol::Ack>) {
            acks_[node].push_back({body.incident, body.at, body.by,
                                   std::string(protocol::AckViaName(body.via)), body.note,
                                   r->received_at, ArrivedLive(body.at, r->received_at)});
          }
        },
        record->body);
  }
}

Outcome RecordsSource::ForEachHeartbeat(const std::string& node, std::int64_t begin,
                                        std::int64_t end,
                                        const std::function<void(const HeartbeatRow&)>& row) {
  return Each(
      beats_, node, begin, end, [](const HeartbeatRow& r) { return r.minute; }, row);
}

Outcome RecordsSource::ForEachTask(const std::string& node, std::int64_t begin, std::int64_t end,
                                   const std::function<void(const TaskRow&)>& row) {
  return Each(
      tasks_, node, begin, end, [](const TaskRow& r) { return r.run_at; }, row);
}

Outcome RecordsSource::ForEachIncident(const std::string& node, std::int64_t begin,
                                       std::int64_t end,
                                       const std::function<void(const IncidentRow&)>& row) {
  auto found = incidents_.find(node);
  if (found == incidents_.end()) return Success();
  for (const auto& r : found->second) {
    if (r.opened < end && (!r.closed || *r.closed >= begin)) row(r);
  }
  return Success();
}

Outcome RecordsSource::ForEachAck(const std::string& node, std::int64_t begin, std::int64_t end,
                                  const std::function<void(const AckRow&)>& row) {
  return Each(
      acks_, node, begin, end, [](const AckRow& r) { return r.at; }, row);
}

Result<std::optional<ReceiverAlerting>> RecordsSource::ReceiverAlertingOf(const std::string& node) {
  nlohmann::json& entry = captured_[node];
  if (capture_from_ != nullptr) {
    auto alerting = capture_from_->ReceiverAlertingOf(node);
    if (!alerting) return Error{alerting.error()};
    entry["alerting"] =
        *alerting ? nlohmann::json{{"since", (*alerting)->since}, {"until", (*alerting)->until}}
                  : nlohmann::json();
    if (!entry.contains("alerts")) entry["alerts"] = nlohmann::json::array();
    return *alerting;
  }
  if (!entry.is_object() || !entry.contains("alerting") || !entry["alerting"].is_object()) {
    return std::optional<ReceiverAlerting>();
  }
  return std::optional<ReceiverAlerting>(
      ReceiverAlerting{entry["alerting"].value("since", std::int64_t{0}),
                       entry["alerting"].value("until", std::int64_t{0})});
}

Outcome RecordsSource::ForEachReceiverAlert(
    const std::string& node, std::int64_t begin, std::int64_t end,
    const std::function<void(const ReceiverAlertRow&)>& row) {
  nlohmann::json& entry = captured_[node];
  if (capture_from_ != nullptr) {
    if (!entry.contains("alerts")) entry["alerts"] = nlohmann::json::array();
    return capture_from_->ForEachReceiverAlert(node, begin, end, [&](const ReceiverAlertRow& a) {
      entry["alerts"].push_back(AlertRowToJson(a));
      row(a);
    });
  }
  if (!entry.is_object() || !entry.contains("alerts") || !entry["alerts"].is_array()) {
    return Success();
  }
  for (const auto& a : entry["alerts"]) {
    if (!a.is_object()) continue;
    ReceiverAlertRow alert = AlertRowFromJson(a);
    if (alert.sent >= begin && alert.sent < end) row(alert);
  }
  return Success();
}

nlohmann::json RegistryToJson(const Registry& registry) {
  nlohmann::json out = {{"operators", nlohmann::json::array()},
                        {"nodes", nlohmann::json::array()},
                        {"referrals", nlohmann::json::array()}};
  for (const auto& op : registry.operators) {
    out["operators"].push_back({{"id", op.id}, {"name", op.name}, {"since", op.since}});
  }
  for (const auto& n : registry.nodes) {
    out["nodes"].push_back(
        {{"node", n.node},
         {"operator", n.operator_id},
         {"added_at", n.added_at},
         {"revoked_at", n.revoked_at ? nlohmann::json(*n.revoked_at) : nlohmann::json()}});
  }
  for (const auto& r : registry.referrals) {
    out["referrals"].push_back(
        {{"partner", r.partner}, {"referred", r.referred}, {"date", r.date}});
  }
  return out;
}

Result<Registry> RegistryFromJson(const nlohmann::json& json) {
  Registry registry;
  try {
    for (const auto& op : json.at("operators")) {
      registry.operators.push_back({op.at("id"), op.at("name"), op.at("since")});
    }
    for (const auto& n : json.at("nodes")) {
      NodeRegistration node{n.at("node"), n.at("operator"), n.at("added_at"), std::nullopt};
      if (n.at("revoked_at").is_number_integer()) node.revoked_at = n.at("revoked_at");
      registry.nodes.push_back(std::move(node));
    }
    for (const auto& r : json.at("referrals")) {
      registry.referrals.push_back({r.at("partner"), r.at("referred"), r.at("date")});
    }
  } catch (const std::exception& e) {
    return Error{std::string("registry: ") + PrintableAscii(e.what(), 160)};
  }
  return registry;
}

Result<MonthStatement> StatementFromRecords(const StatementInputs& inputs, const Period& month,
                                            const std::vector<StatementRecord>& records,
                                            ReportSource* capture_from, nlohmann::json& alerts) {
  RecordsSource source(inputs.registry, records, capture_from,
                       capture_from ? nlohmann::json::object() : alerts);
  auto uptime = ComputeUptime(source, inputs.registry, month, inputs.live_within_s);
  if (!uptime) return Error{uptime.error()};
  if (capture_from != nullptr) alerts = source.CapturedAlerts();
  return ComputeStatement(*uptime, inputs.registry, inputs.policy);
}

nlohmann::json ClosedDocument(const MonthStatement& statement, const StatementInputs& inputs,
                              const nlohmann::json& alerts, const std::string& list_text,
                              std::size_t record_count, std::int64_t closed_at,
                              const std::string& receiver_kid) {
  return {{"type", "fleet-closed-statement"},
          {"month", statement.month.label},
          {"begin", statement.month.begin},
          {"end", statement.month.end},
          {"closed_at", FormatUtc(closed_at)},
          {"receiver_kid", receiver_kid},
          {"statement", StatementToJson(statement)},
          {"inputs",
           {{"registry", RegistryToJson(inputs.registry)},
            {"late_minutes_count", inputs.policy.late_minutes_count},
            {"live_within_s", inputs.live_within_s},
            {"node_keys", inputs.node_keys},
            {"receiver_alerts", alerts}}},
          {"records", {{"count", record_count}, {"digest", RecordListDigest(list_text)}}}};
}

std::string SignClosedDocument(const nlohmann::json& document, const SecretKey& secret,
                               const std::string& kid) {
  return SignCompactJws(document.dump(), secret, kid, kStatementTyp);
}

nlohmann::json StatementAdjustments(const nlohmann::json& closed_statement,
                                    const nlohmann::json& now_statement) {
  nlohmann::json lines = nlohmann::json::array();
  double total = 0;
  // operator -> figure -> amount
  const auto figures = [](const nlohmann::json& statement) {
    std::map<std::string, std::map<std::string, double>> out;
    if (!statement.is_object() || !statement.contains("operators")) return out;
    for (const auto& op : statement["operators"]) {
      auto& f = out[op.value("operator", std::string())];
      f["base"] = op.value("base", 0.0);
      if (op.contains("bonuses") && op["bonuses"].is_array()) {
        for (const auto& b : op["bonuses"]) {
          f["bonus " + b.value("bonus", std::string())] = b.value("amount", 0.0);
        }
      }
      f["commission"] = op.value("commission_total", 0.0);
      f["total"] = op.value("total", 0.0);
    }
    return out;
  };
  const auto before = figures(closed_statement);
  const auto after = figures(now_statement);
  std::set<std::string> operators;
  for (const auto& [op, f] : before) operators.insert(op);
  for (const auto& [op, f] : after) operators.insert(op);
  for (const auto& op : operators) {
    std::set<std::string> names;
    auto b = before.find(op), a = after.find(op);
    if (b != before.end()) {
      for (const auto& [n, v] : b->second) names.insert(n);
    }
    if (a != after.end()) {
      for (const auto& [n, v] : a->second) names.insert(n);
    }
    for (const auto& name : names) {
      const double was = b == before.end() || !b->second.contains(name) ? 0 : b->second.at(name);
      const double is = a == after.end() || !a->second.contains(name) ? 0 : a->second.at(name);
      if (std::abs(is - was) < 0.005) continue;
      lines.push_back(
          {{"operator", op}, {"figure", name}, {"closed", was}, {"now", is}, {"amount", is - was}});
      if (name == "total") total += is - was;
    }
  }
  return {{"lines", lines}, {"total", total}};
}

VerifyReport VerifyClosedStatement(std::string_view jws, const PublicKey& key,
                                   std::string_view list_text, std::string_view records_ndjson) {
  VerifyReport report;
  auto verified = VerifyCompactJws(jws, key, kStatementTyp);
  if (!verified) {
    report.problems.push_back("signature: " + verified.error());
    return report;
  }
  auto document = ParseStrictJson(verified->payload, 64);
  if (!document || !document->is_object() ||
      document->value("type", std::string()) != "fleet-closed-statement") {
    report.problems.push_back("signed payload: not a closed statement");
    return report;
  }
  report.document = *document;
  const nlohmann::json& doc = *document;
  // The record list against the signed digest.
  try {
    const std::string digest = doc.at("records").at("digest");
    const std::size_t count = doc.at("records").at("count");
    if (RecordListDigest(list_text) != digest) {
      report.problems.push_back("record list: its digest " + RecordListDigest(list_text) +
                                " is not the signed " + digest);
    }
    std::map<std::string, std::int64_t> listed;  // hash -> received_at
    std::istringstream lines{std::string(list_text)};
    std::string line;
    while (std::getline(lines, line)) {
      const auto space = line.find(' ');
      if (space == std::string::npos) {
        report.problems.push_back("record list: malformed line '" + PrintableAscii(line, 80) + "'");
        continue;
      }
      try {
        listed[line.substr(0, space)] = std::stoll(line.substr(space + 1));
      } catch (const std::exception&) {
        report.problems.push_back("record list: malformed line '" + PrintableAscii(line, 80) + "'");
      }
    }
    if (listed.size() != count) {
      report.problems.push_back("record list: " + std::to_string(listed.size()) +
                                " records listed, " + std::to_string(count) + " signed");
    }
    // The records against the list, and each against its node's key.
    std::map<std::string, PublicKey> keys;
    for (const auto& [kid, x] : doc.at("inputs").at("node_keys").items()) {
      auto raw = Base64UrlDecode(x.get<std::string>());
      if (raw && raw->size() == 32) {
        PublicKey k{};
        std::copy(raw->begin(), raw->end(), k.begin());
        keys[kid] = k;
      }
    }
    std::vector<StatementRecord> records;
    std::set<std::string> seen;
    std::istringstream ndjson{std::string(records_ndjson)};
    int line_no = 0;
    while (std::getline(ndjson, line)) {
      ++line_no;
      if (line.empty()) continue;
      StatementRecord r;
      r.jws = line;
      r.hash = ChainHash(line);
      const std::string where = "records line " + std::to_string(line_no);
      auto in_list = listed.find(r.hash);
      if (in_list == listed.end()) {
        report.problems.push_back(where + ": hash " + r.hash + " is not in the signed list");
        continue;
      }
      seen.insert(r.hash);
      r.received_at = in_list->second;
      auto header = ReadJwsHeader(line);
      auto node_key = header ? keys.find(header->kid) : keys.end();
      if (node_key == keys.end()) {
        report.problems.push_back(where + ": no node key for its kid");
        continue;
      }
      auto checked = VerifyCompactJws(line, node_key->second);
      if (!checked) {
        report.problems.push_back(where + ": " + checked.error());
        continue;
      }
      r.payload = checked->payload;
      auto decoded = protocol::DecodeRecord(r.payload);
      if (!decoded) {
        report.problems.push_back(where + ": " + decoded.error());
        continue;
      }
      r.node = decoded->envelope.node;
      r.epoch = decoded->envelope.epoch;
      r.seq = decoded->envelope.seq;
      records.push_back(std::move(r));
    }
    for (const auto& [hash, at] : listed) {
      if (!seen.contains(hash)) report.problems.push_back("records: " + hash + " is missing");
    }
    // The statement again, from the records and the signed inputs.
    StatementInputs inputs;
    auto registry = RegistryFromJson(doc.at("inputs").at("registry"));
    if (!registry) {
      report.problems.push_back(registry.error());
      return report;
    }
    inputs.registry = std::move(registry).value();
    inputs.policy.late_minutes_count = doc.at("inputs").at("late_minutes_count");
    inputs.live_within_s = doc.at("inputs").at("live_within_s");
    const Period month{doc.at("begin"), doc.at("end"), doc.at("month")};
    nlohmann::json alerts = doc.at("inputs").at("receiver_alerts");
    auto again = StatementFromRecords(inputs, month, records, nullptr, alerts);
    if (!again) {
      report.problems.push_back("recomputing: " + again.error());
      return report;
    }
    const nlohmann::json now = StatementToJson(*again);
    if (now != doc.at("statement")) {
      const nlohmann::json diff = nlohmann::json::diff(doc.at("statement"), now);
      std::string what;
      for (std::size_t i = 0; i < diff.size() && i < 5; ++i) {
        what += (i ? "; " : "") + diff[i].value("path", std::string()) + " " +
                diff[i].value("op", std::string()) +
                (diff[i].contains("value") ? " " + PrintableAscii(diff[i]["value"].dump(), 60)
                                           : std::string());
      }
      report.problems.push_back("statement: recomputed from the records it differs (" +
                                std::to_string(diff.size()) + " changes: " + what + ")");
    }
  } catch (const std::exception& e) {
    report.problems.push_back("signed document: " + PrintableAscii(e.what(), 160));
  }
  report.ok = report.problems.empty();
  return report;
}

}  // namespace fleet::receiver
