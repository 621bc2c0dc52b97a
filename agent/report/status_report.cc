#include "agent/report/status_report.h"

#include <algorithm>

#include "base/units.h"
#include "collectors/cron/timestamp.h"

namespace fleet {
namespace {

using std::chrono::system_clock;

// status.json older than this: the daemon is probably not running.
constexpr std::int64_t kStaleSeconds = 120;

std::int64_t SecondsBetween(system_clock::time_point from, system_clock::time_point to) {
  return std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::seconds>(to - from).count());
}

// Seconds from the RFC 3339 time in object[key] to now; null when absent or unreadable.
nlohmann::json AgeOf(const nlohmann::json& object, const char* key, system_clock::time_point now) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return nullptr;
  auto at = ParseTimestamp(it->get<std::string>());
  if (!at) return nullptr;
  return SecondsBetween(at->at, now);
}

// Text of a field, or `fallback` (status.json is ours, but may be from another version).
std::string Field(const nlohmann::json& object, const char* key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string Age(const nlohmann::json& object) {
  auto it = object.find("age_seconds");
  if (it == object.end() || !it->is_number_integer()) return "?";
  return FormatDuration(std::chrono::seconds(it->get<std::int64_t>())) + " ago";
}

std::string Padded(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

nlohmann::json HistoryJson(const StatusInputs& in) {
  if (!in.history) return {{"error", in.history.error()}};
  const HistorySize& h = *in.history;
  const auto minute = [](const std::optional<UnixMinute>& m) {
    return m ? nlohmann::json(FormatUtc(*m * 60)) : nlohmann::json(nullptr);
  };
  return {{"heartbeats", h.heartbeats},
          {"first_heartbeat", minute(h.first_heartbeat)},
          {"last_heartbeat", minute(h.last_heartbeat)},
          {"tasks", h.tasks},
          {"tasks_failed", h.tasks_failed},
          {"incidents", h.incidents},
          {"incidents_open", h.incidents_open},
          {"agent_starts", h.agent_starts},
          {"spool_records", h.spool_records},
          {"database_bytes",
           in.database_bytes ? nlohmann::json(*in.database_bytes) : nlohmann::json(nullptr)}};
}

void FormatChecks(const nlohmann::json& checks, std::string& out) {
  if (!checks.is_array() || checks.empty()) {
    out += "  no check results yet\n";
    return;
  }
  std::size_t name_width = 5;
  for (const auto& c : checks) name_width = std::max(name_width, Field(c, "name", "?").size());
  out += "  " + Padded("STATUS", 10) + Padded("CHECK", name_width + 2) + Padded("AGE", 10) +
         "SUMMARY\n";
  for (const auto& c : checks) {
    out += "  " + Padded(Field(c, "status", "?"), 10) +
           Padded(Field(c, "name", "?"), name_width + 2) + Padded(Age(c), 10) +
           Field(c, "summary", "") + "\n";
  }
}

void FormatHistory(const nlohmann::json& h, std::string& out) {
  if (!h.is_object() || h.contains("error")) {
    out += "history: cannot be read: " + Field(h, "error", "?") + "\n";
    return;
  }
  out += "history: " + Field(h, "heartbeats", "?") + " heartbeats";
  if (!Field(h, "first_heartbeat", "").empty()) {
    out += " (" + Field(h, "first_heartbeat", "?") + " to " + Field(h, "last_heartbeat", "?") + ")";
  }
  out += ", " + Field(h, "tasks", "?") + " tasks (" + Field(h, "tasks_failed", "?") + " failed), " +
         Field(h, "incidents", "?") + " incidents (" + Field(h, "incidents_open", "?") +
         " open), " + Field(h, "agent_starts", "?") + " agent starts";
  if (auto bytes = h.find("database_bytes"); bytes != h.end() && bytes->is_number_unsigned()) {
    out += "; history.db " + FormatBytes(bytes->get<std::uint64_t>());
  }
  out += "\n";
}

void FormatSpoolAndPush(const nlohmann::json& status, std::string& out) {
  if (auto spool = status.find("spool"); spool != status.end() && spool->is_object()) {
    out += "spool: " + Field(*spool, "records", "?") + " records awaiting acknowledgement (" +
           Field(*spool, "percent", "?") + "% of spool.max_size), epoch " +
           Field(*spool, "epoch", "?") + ", next seq " + Field(*spool, "next_seq", "?");
    if (Field(*spool, "full", "false") == "true") out += "; FULL: detail records are shed";
    if (Field(*spool, "shed_records", "0") != "0") {
      out += "; " + Field(*spool, "shed_records", "?") + " detail records shed so far";
    }
    if (Field(*spool, "oversized_records", "0") != "0") {
      out += "; " + Field(*spool, "oversized_records", "?") + " records not made (too large)";
    }
    out += "\n";
    if (Field(*spool, "refused_records", "0") != "0") {
      out += "  " + Field(*spool, "refused_records", "?") +
             " records REFUSED for good by the receiver, kept aside in history.db "
             "(refused_records)";
      if (auto last = spool->find("last_refused"); last != spool->end() && last->is_object()) {
        out += "; last: epoch " + Field(*last, "epoch", "?") + " seq " + Field(*last, "seq", "?") +
               " (" + Field(*last, "type", "?") + ") at " + Field(*last, "at", "?") + ": " +
               Field(*last, "reason", "?");
      }
      out += "\n";
    }
  }
  if (auto push = status.find("push"); push != status.end() && push->is_object()) {
    const std::string state = Field(*push, "state", "?");
    if (state == "off") {
      out += "push: off (no upstream.url; records stay in the spool)\n";
      return;
    }
    out += "push: " + state + " to " + Field(*push, "url", "?") + "; last acknowledgement " +
           Field(*push, "last_ack", "never") + ", " + Field(*push, "records_acknowledged", "0") +
           " records acknowledged since start\n";
    if (Field(*push, "failures_in_a_row", "0") != "0") {
      out += "  " + Field(*push, "failures_in_a_row", "?") +
             " failures in a row; last error: " + Field(*push, "last_error", "?") +
             "\n  next attempt " + Field(*push, "next_attempt", "soon") + "\n";
    }
  }
}

void FormatAlerts(const nlohmann::json& status, std::string& out) {
  auto alerts = status.find("alerts");
  if (alerts == status.end() || !alerts->is_object()) return;
  const auto channels = alerts->find("channels");
  if (channels == alerts->end() || !channels->is_array() || channels->empty()) {
    out += "alerts: no channel (alerts: in the configuration)\n";
    return;
  }
  out += "alerts: " + Field(*alerts, "open_alerts", "0") + " open";
  if (alerts->contains("maintenance_until") && (*alerts)["maintenance_until"].is_string()) {
    out += ", silenced until " + Field(*alerts, "maintenance_until", "?");
  }
  out += "; channels:";
  for (const auto& c : *channels) {
    if (!c.is_object()) continue;
    out += " " + Field(c, "name", "?") + " " + Field(c, "state", "?") + " (" +
           Field(c, "sent", "0") + " sent)";
  }
  out += "\n";
  for (const auto& problem : AlertingProblems(*alerts)) out += "  " + problem + "\n";
}

}  // namespace

std::vector<std::string> AlertingProblems(const nlohmann::json& alerts) {
  std::vector<std::string> problems;
  if (!alerts.is_object()) return problems;
  if (auto channels = alerts.find("channels"); channels != alerts.end() && channels->is_array()) {
    for (const auto& c : *channels) {
      if (!c.is_object()) continue;
      const std::string state = Field(c, "state", "?");
      const std::string name = Field(c, "name", "?");
      const std::string error = Field(c, "last_error", "?");
      if (state == "refused") {
        problems.push_back(name + " refuses alerts: " + error);
      } else if (state == "rate limited" || state == "retrying") {
        problems.push_back(name + " " + state + ": " + error + "; next attempt " +
                           Field(c, "next_attempt", "soon"));
      }
    }
  }
  if (auto poller = alerts.find("poller"); poller != alerts.end() && poller->is_object()) {
    const std::string state = Field(*poller, "state", "?");
    if (state == "conflict" || state == "refused") {
      problems.push_back("telegram button poller " + state + ": " +
                         Field(*poller, "last_error", "?") +
                         (state == "conflict" ? " (one getUpdates poller per bot token: give this "
                                                "node a bot of its own, or set poll: false)"
                                              : ""));
    }
  }
  return problems;
}

nlohmann::json ComposeStatus(nlohmann::json status, const StatusInputs& in) {
  if (!status.is_object()) status = nlohmann::json::object();
  status["age_seconds"] =
      in.written ? nlohmann::json(SecondsBetween(*in.written, in.now)) : nlohmann::json(nullptr);
  if (auto checks = status.find("checks"); checks != status.end() && checks->is_array()) {
    for (auto& c : *checks) {
      if (c.is_object()) c["age_seconds"] = AgeOf(c, "checked_at", in.now);
    }
  }
  if (auto e = status.find("last_evaluation"); e != status.end() && e->is_object()) {
    (*e)["age_seconds"] = AgeOf(*e, "at", in.now);
  }
  status["history"] = HistoryJson(in);
  if (in.key_kid) {
    nlohmann::json key = {{"kid", *in.key_kid}, {"written_at", nullptr}, {"age_days", nullptr}};
    if (in.key_written_at) {
      key["written_at"] = FormatUtc(*in.key_written_at);
      key["age_days"] = (ToUnixSeconds(in.now) - *in.key_written_at) / 86400;
    }
    status["node_key"] = std::move(key);
  } else {
    status["node_key"] = nullptr;
  }
  return status;
}

NodeKeyAge AgeOfNodeKey(const std::string& kid, std::int64_t written_at, std::int64_t now,
                        std::chrono::milliseconds max_age) {
  NodeKeyAge age;
  age.days = std::max<std::int64_t>(0, now - written_at) / 86400;
  const std::int64_t max_days =
      std::chrono::duration_cast<std::chrono::hours>(max_age).count() / 24;
  age.too_old =
      now - written_at > std::chrono::duration_cast<std::chrono::seconds>(max_age).count();
  age.summary = "node key " + kid + " is " + std::to_string(age.days) + " days old";
  if (age.too_old) {
    age.summary +=
        " (more than " + std::to_string(max_days) + "): rotate it with fleet-agent rotate-key";
  }
  return age;
}

std::string FormatStatus(const nlohmann::json& status) {
  if (!status.is_object()) return "status.json holds no status\n";
  std::string out = "fleet-agent " + Field(status, "agent", "?") + " pid " +
                    Field(status, "pid", "?") + " on " + Field(status, "node", "?") + ", started " +
                    Field(status, "started", "?") + "\n";
  const auto age = status.find("age_seconds");
  const bool stale =
      age != status.end() && age->is_number_integer() && age->get<std::int64_t>() > kStaleSeconds;
  out += "status written " + Age(status) + (stale ? " (STALE: is the daemon running?)" : "") +
         "; node is " + (Field(status, "up", "false") == "true" ? "up" : "DOWN") + "\n";
  if (auto e = status.find("last_evaluation"); e != status.end() && e->is_object()) {
    out += "last evaluated minute " + Field(*e, "minute", "?") + " (" + Age(*e) + ", " +
           (Field(*e, "up", "false") == "true" ? "up" : "down") + "), heartbeat " +
           Field(*e, "heartbeat", "?");
  } else {
    out += "no minute evaluated yet";
  }
  if (const std::string queued = Field(status, "queued_entries", "0"); queued != "0") {
    out += "; " + queued + " history entries queued in memory (the history cannot be written)";
  }
  out += "\n";
  FormatChecks(status.value("checks", nlohmann::json::array()), out);
  FormatHistory(status.value("history", nlohmann::json::object()), out);
  if (auto key = status.find("node_key"); key != status.end() && key->is_object()) {
    out += "node key: kid " + Field(*key, "kid", "?") + ", " +
           ((*key)["age_days"].is_number_integer()
                ? std::to_string((*key)["age_days"].get<std::int64_t>()) + " days old (written " +
                      Field(*key, "written_at", "?") + ")"
                : std::string("age unknown")) +
           "\n";
  }
  FormatSpoolAndPush(status, out);
  FormatAlerts(status, out);
  return out;
}

}  // namespace fleet
