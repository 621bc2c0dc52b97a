#include "receiver/cli/alert_commands.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "alerting/secret_rules.h"
#include "base/json_text.h"
#include "base/text.h"
#include "base/utc_time.h"
#include "receiver/alerts/alert_history.h"
#include "receiver/alerts/alert_leases.h"
#include "receiver/alerts/alert_outbox.h"
#include "receiver/alerts/alert_requests.h"
#include "receiver/alerts/alerts_config.h"
#include "receiver/alerts/operator_channels.h"
#include "receiver/cli/receiver_cli.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxNote = 1024;
constexpr std::size_t kMaxBy = 64;

int Fail(const std::string& message, int code = kExitRuntime) {
  std::cerr << "fleet-receiver: " << message << "\n";
  return code;
}

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

bool IsId(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

bool IsChatId(std::string_view text) {
  if (text.starts_with("@")) {
    return text.size() >= 2 && text.size() <= 64 &&
           std::all_of(text.begin() + 1, text.end(), [](char c) {
             return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
           });
  }
  if (text.starts_with("-")) text.remove_prefix(1);
  return !text.empty() && text.size() <= 20 && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

Result<std::vector<std::int64_t>> ParseAckers(const std::string& text) {
  std::vector<std::int64_t> ackers;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t comma = std::min(text.find(',', from), text.size());
    const std::string_view part(text.data() + from, comma - from);
    std::int64_t id = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), id);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || id <= 0) {
      return Error{"--ackers: '" + PrintableAscii(part, 40) +
                   "' is not a Telegram user id (ids, comma-separated: 123,456)"};
    }
    ackers.push_back(id);
    from = comma + 1;
  }
  return ackers;
}

std::string Describe(const OperatorChannelsRow& row) {
  std::string out;
  if (row.telegram_chat) {
    out += "telegram " + *row.telegram_chat + " (ackers ";
    std::string ids;
    for (auto id : row.ackers) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    out += (ids.empty() ? std::string("none") : ids) + ")";
  }
  if (row.discord_webhook) out += std::string(out.empty() ? "" : ", ") + "discord: set";
  return out.empty() ? "no channels (its alerts go to the foundation's)" : out;
}

std::string DefaultBy() {
  for (const char* name : {"SUDO_USER", "USER"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return "receiver";
}

json Time(const std::optional<std::int64_t>& t) { return t ? json(FormatUtc(*t)) : json(); }

}  // namespace

int RunOperatorChannels(const OperatorChannelsArgs& args) {
  if (!IsId(args.id)) {
    return Fail("--id: '" + PrintableAscii(args.id, 80) + "' is not an operator id", kExitUsage);
  }
  if (args.id == kFoundation) {
    return Fail("--id foundation: that name is the receiver's own channels (in --alerts)",
                kExitUsage);
  }
  if (args.telegram_chat && !IsChatId(*args.telegram_chat)) {
    return Fail("--telegram-chat must be a number (-1001234567890) or @channelname", kExitUsage);
  }
  std::vector<std::int64_t> ackers;
  if (args.ackers) {
    auto parsed = ParseAckers(*args.ackers);
    if (!parsed) return Fail(parsed.error(), kExitUsage);
    ackers = std::move(parsed).value();
  }
  std::optional<std::string> webhook;
  if (args.discord_webhook_file) {
    // The receiver sends to Discord itself (or to discord.api_base for tests): the URL must
    // be Discord's own.
    auto read = ReadSecretFile(
        *args.discord_webhook_file,
        [](std::string_view url) { return alerting::DiscordWebhookUrlFault(url, false); }, nullptr);
    if (!read) return Fail("--discord-webhook-file " + read.error(), kExitUsage);
    webhook = std::move(read).value();
  }
  auto link = OpenSqlLink(args.db);
  if (!link) return Fail(link.error());
  OperatorChannels table(**link);
  auto known = table.OperatorKnown(args.id);
  if (!known) return Fail(known.error());
  if (!*known) {
    return Fail("no operator " + args.id + " (operators add, or nodes add --operator " + args.id +
                ")");
  }
  auto found = table.Find(args.id);
  if (!found) return Fail(found.error());
  OperatorChannelsRow row = found->value_or(OperatorChannelsRow{args.id, {}, {}, {}, 0});
  if (args.clear) row = OperatorChannelsRow{args.id, {}, {}, {}, 0};
  if (args.telegram_chat) row.telegram_chat = args.telegram_chat;
  if (args.ackers) row.ackers = ackers;
  if (webhook) row.discord_webhook = webhook;
  if (args.ackers && !row.telegram_chat) {
    return Fail("--ackers needs a Telegram chat (--telegram-chat)", kExitUsage);
  }
  if (!row.telegram_chat) row.ackers.clear();
  row.updated = Now();
  if (auto done = table.Set(row); !done) return Fail(done.error());
  std::cout << "operator " << args.id << ": " << Describe(row) << "\n";
  return 0;
}

int RunAck(const AckArgs& args) {
  if (args.alert <= 0)
    return Fail("ALERT must be an alert number (fleet-receiver alerts)", kExitUsage);
  const std::string by = TruncateUtf8(args.by.empty() ? DefaultBy() : args.by, kMaxBy);
  if (!IsPlainUtf8Text(by)) return Fail("--by: not plain text", kExitUsage);
  if (args.note && (args.note->size() > kMaxNote || !IsPlainUtf8Text(*args.note))) {
    return Fail("--note: at most 1 KiB of plain text", kExitUsage);
  }
  auto link = OpenSqlLink(args.db);
  if (!link) return Fail(link.error());
  AlertRequests requests(**link);
  const std::int64_t now = Now();
  auto id =
      requests.Ask({args.alert, by, "receiver", now, args.note, std::nullopt, std::nullopt}, now);
  if (!id) return Fail(id.error());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.wait_s);
  while (std::chrono::steady_clock::now() < deadline) {
    auto answer = requests.AnswerOf(*id);
    if (!answer) return Fail(answer.error());
    if (*answer) {
      if (!(*answer)->ok) return Fail((*answer)->text);
      std::cout << (*answer)->text << "\n";
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto withdrawn = requests.Withdraw(*id, Now());
  if (withdrawn && !*withdrawn) {  // answered at the last moment
    auto answer = requests.AnswerOf(*id);
    if (answer && *answer && (*answer)->ok) {
      std::cout << (*answer)->text << "\n";
      return 0;
    }
  }
  return Fail("no alert worker answered within " + std::to_string(args.wait_s) +
              " s (is fleet-receiver serve --alerts running on this database?); nothing was "
              "acknowledged");
}

int RunAlertsList(const std::string& db, bool as_json) {
  auto link = OpenSqlLink(db);
  if (!link) return Fail(link.error());
  auto open = AlertHistory(**link).Unresolved();
  if (!open) return Fail(open.error());
  AlertOutbox outbox(**link);
  auto counts = outbox.Counts();
  if (!counts) return Fail(counts.error());
  auto states = outbox.ChannelStates();
  if (!states) return Fail(states.error());
  AlertLeases leases(**link);
  auto worker = leases.Find(kWorkerLease);
  auto poller = leases.Find(kPollerLease);
  auto poller_state = leases.Value("telegram_poller_state");
  if (!worker || !poller || !poller_state) return Fail("reading the leases");
  const std::int64_t now = Now();

  json alerts = json::array();
  for (const auto& e : *open) {
    json ack;
    if (e.ack) {
      ack = {{"by", e.ack->by},
             {"via", e.ack->via},
             {"at", FormatUtc(e.ack->at)},
             {"note", e.ack->note ? json(*e.ack->note) : json()}};
    }
    alerts.push_back({{"alert", e.key},
                      {"node", e.node},
                      {"operator", e.operator_id},
                      {"checks", e.checks},
                      {"silent", e.silent},
                      {"state", e.ack ? "acknowledged" : "firing"},
                      {"opened", FormatUtc(e.opened)},
                      {"sent", FormatUtc(e.sent)},
                      {"channels", e.channels},
                      {"ack", ack}});
  }
  json channels = json::array();
  std::map<std::string, const ChannelState*> state_of;
  for (const auto& s : *states) state_of[s.channel] = &s;
  std::set<std::string> names;
  for (const auto& [name, c] : *counts) names.insert(name);
  for (const auto& s : *states) names.insert(s.channel);
  for (const auto& name : names) {
    ChannelCounts c;
    if (auto it = counts->find(name); it != counts->end()) c = it->second;
    const ChannelState* s = state_of.count(name) ? state_of[name] : nullptr;
    channels.push_back({{"channel", name},
                        {"pending", c.pending},
                        {"sent", c.sent},
                        {"failed", c.failed},
                        {"dropped", c.dropped},
                        {"oldest_pending", Time(c.oldest_pending)},
                        {"state", s ? json(s->state) : json()},
                        {"last_error", s && s->last_error ? json(*s->last_error) : json()},
                        {"last_sent", s ? Time(s->last_sent) : json()}});
  }
  auto lease_json = [&](const std::optional<LeaseRow>& lease) {
    if (!lease || lease->expires < now) return json();
    return json{{"holder", lease->holder}, {"until", FormatUtc(lease->expires)}};
  };
  json poller_json = lease_json(*poller);
  if (*poller_state) {
    json st = json::parse(**poller_state, nullptr, false);
    if (st.is_object()) poller_json = {{"lease", lease_json(*poller)}, {"state", st}};
  }
  json out = {{"alerts", alerts},
              {"channels", channels},
              {"worker", lease_json(*worker)},
              {"poller", poller_json}};
  if (as_json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << (alerts.empty() ? "no open alerts\n" : "open alerts:\n");
  for (const auto& a : alerts) {
    std::string checks;
    for (const auto& c : a["checks"]) checks += (checks.empty() ? "" : ", ") + c.get<std::string>();
    std::cout << "  alert " << a["alert"] << "\t" << a["node"].get<std::string>() << " ("
              << a["operator"].get<std::string>() << ")\t" << checks << "\t"
              << a["state"].get<std::string>() << "\topened " << a["opened"].get<std::string>();
    if (!a["ack"].is_null()) {
      std::cout << "\tby " << a["ack"]["by"].get<std::string>() << " via "
                << a["ack"]["via"].get<std::string>();
    }
    std::cout << "\n";
  }
  std::cout << (channels.empty() ? "outbox: empty\n" : "outbox:\n");
  for (const auto& c : channels) {
    std::cout << "  " << c["channel"].get<std::string>() << "\t" << c["pending"] << " pending, "
              << c["sent"] << " sent, " << c["failed"] << " failed, " << c["dropped"] << " dropped";
    if (!c["state"].is_null()) std::cout << "\t" << c["state"].get<std::string>();
    if (!c["last_error"].is_null() && c["state"] != "ok") {
      std::cout << ": " << c["last_error"].get<std::string>();
    }
    std::cout << "\n";
  }
  std::cout << "worker: "
            << (out["worker"].is_null() ? std::string("none running")
                                        : out["worker"]["holder"].get<std::string>())
            << "\n";
  if (!(*poller_state) && out["poller"].is_null()) {
    std::cout << "telegram poller: none running\n";
  } else if (!out["poller"].is_null() && out["poller"].contains("state")) {
    const json& st = out["poller"]["state"];
    std::cout << "telegram poller: " << st.value("state", std::string("?"));
    if (st.contains("error") && st["error"].is_string()) {
      std::cout << ": " << st["error"].get<std::string>();
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace fleet::receiver
