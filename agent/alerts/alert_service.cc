#include "agent/alerts/alert_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>

#include "agent/alerts/alert_channels.h"
#include "agent/alerts/alert_sender.h"
#include "agent/alerts/button_poller.h"
#include "agent/alerts/weekly_summary.h"
#include "alerting/channels.h"
#include "base/json_text.h"
#include "base/text.h"
#include "base/utc_time.h"
#include "protocol/records.h"

namespace fleet {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

constexpr std::int64_t kInboxEvery = 1;  // seconds
constexpr auto kPressAnswerWait = std::chrono::seconds(10);
constexpr std::int64_t kMaxMaintenance = 30 * 86400;

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool SameChannels(const AlertSettings& a, const AlertSettings& b) {
  return a.channels == b.channels && a.escalation == b.escalation;
}

bool SameSecrets(const ChannelSecrets& a, const ChannelSecrets& b) {
  return a.telegram_token == b.telegram_token && a.discord_webhook_url == b.discord_webhook_url &&
         a.webhook_url == b.webhook_url;
}

Result<std::unique_ptr<alerting::ChatTransport>> CurlTransport(const std::atomic<bool>* abort) {
  alerting::ChatTransportOptions options;
  options.abort = abort;
  return alerting::MakeCurlChatTransport(options);
}

}  // namespace

AlertService::AlertService(boost::asio::io_context& io, std::string state_dir, std::string node,
                           NodeHistoryHooks history)
    : io_(io),
      timer_(io),
      state_dir_(std::move(state_dir)),
      node_(std::move(node)),
      history_(std::move(history)) {}

AlertService::~AlertService() { Stop(); }

Outcome AlertService::Configure(const AlertSettings& settings, const AlertSecrets& secrets) {
  if (!alerter_) {
    auto ledger = AlertLedger::Open(state_dir_, false);
    if (!ledger) return Error{"alerting: " + ledger.error()};
    auto alerter = Alerter::Open(std::move(ledger).value(), node_, settings);
    if (!alerter) return Error{"alerting: " + alerter.error()};
    alerter_ = std::move(alerter).value();
    if (!alerter_->load_warning().empty()) {
      spdlog::warn("alerting: {}; the alert rules start afresh", alerter_->load_warning());
    }
    if (auto from = alerter_->ledger().Value("maintenance_from"); from && *from) {
      maintenance_from_ = std::strtoll((*from)->c_str(), nullptr, 10);
    }
  } else {
    alerter_->Configure(settings);
  }
  for (const auto& warning : secrets.warnings) spdlog::warn("alerting: {}", warning);
  const bool channels_changed = !sender_ || !SameChannels(settings, settings_) ||
                                !SameSecrets(secrets.channels, secrets_.channels) ||
                                !SameSecrets(secrets.escalation, secrets_.escalation);
  const AlertRoutes routes = RoutesOf(settings);
  if (channels_changed) {
    if (sender_) sender_->Stop();
    sender_.reset();
    if (auto dropped = alerter_->ledger().DropUnrouted(routes.All(), history_.now());
        dropped && *dropped > 0) {
      spdlog::warn(
          "alerting: {} waiting message(s) dropped: their channel is no longer "
          "configured",
          *dropped);
    }
    if (!routes.All().empty()) {
      sender_ = std::make_unique<AlertSender>(
          state_dir_,
          [settings,
           secrets](alerting::ChatTransport& transport) -> Result<std::vector<NamedChannel>> {
            return MakeAlertChannels(settings, secrets, transport);
          },
          CurlTransport);
      sender_->Start();
      spdlog::info("alerting on {}", Join(routes.All()));
    }
  }
  const bool poll = settings.channels.telegram && settings.channels.telegram->poll;
  if (channels_changed || (poll != static_cast<bool>(poller_))) {
    if (poller_) poller_->Stop();
    poller_.reset();
    if (poll) {
      const TelegramSettings& telegram = *settings.channels.telegram;
      poller_ = std::make_unique<ButtonPoller>(
          state_dir_, telegram.api_base, secrets.channels.telegram_token, telegram.chat_id,
          telegram.ackers,
          [this](std::int64_t alert, const alerting::ButtonPress& press) {
            // Handed to the loop; the promise outlives a loop that never runs it.
            auto answer = std::make_shared<std::promise<std::string>>();
            auto future = answer->get_future();
            alerting::Acknowledgement ack{
                TruncateUtf8(press.user_name, protocol::kMaxIdBytes), "telegram", 0, {}};
            boost::asio::post(io_, [this, alert, ack, answer] {
              auto done = Acknowledge(alert, ack);
              answer->set_value(done ? *done : "Not recorded: " + done.error());
            });
            if (future.wait_for(kPressAnswerWait) != std::future_status::ready) {
              return std::string("The agent is busy; press again in a minute.");
            }
            return future.get();
          },
          CurlTransport);
      poller_->Start();
    }
  }
  settings_ = settings;
  secrets_ = secrets;
  Schedule();
  return Success();
}

void AlertService::Report(const std::string& key, const Outcome& outcome) {
  if (outcome.ok()) {
    errors_.Clear(key);
  } else {
    errors_.Report(key, outcome.error());
  }
}

void AlertService::Queued(const Result<bool>& queued, const std::string& key) {
  if (!queued) {
    errors_.Report(key, queued.error());
    return;
  }
  errors_.Clear(key);
  if (*queued && sender_) sender_->Wake();
}

void AlertService::Observe(const CheckResult& result) {
  if (!alerter_ || stopped_) return;
  Queued(alerter_->Observe(result, history_.now()), "alert rules");
  Schedule();
}

void AlertService::Forget(const std::string& check) {
  if (!alerter_ || stopped_) return;
  Queued(alerter_->Forget(check, history_.now()), "alert rules");
  Schedule();
}

void AlertService::Note(const std::string& check, const std::string& note, bool tell) {
  if (!alerter_ || stopped_) return;
  Queued(alerter_->SetNote(check, note, tell, history_.now()), "alert rules");
  Schedule();
}

bool AlertService::InMaintenance() const {
  return alerter_ && alerter_->book().InMaintenance(history_.now());
}

// Arms the timer for the rules' next wake, or the inbox's next look, whichever is first. A
// check answer comes several times a second: re-arming each time would push the deadline
// out for ever, so the timer is moved only to an earlier time.
void AlertService::Schedule() {
  if (stopped_) return;
  const std::int64_t now = history_.now();
  std::int64_t wait = kInboxEvery;
  if (auto wake = alerter_ ? alerter_->NextWake() : std::nullopt) {
    wait = std::clamp<std::int64_t>(*wake - now, 0, kInboxEvery);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
  if (armed_ && deadline >= timer_.expiry()) return;
  armed_ = true;
  timer_.expires_at(deadline);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // moved to an earlier time (a new wait is pending), or stopped
    armed_ = false;
    if (!stopped_) OnTimer();
  });
}

void AlertService::OnTimer() {
  if (alerter_) {
    Queued(alerter_->Tick(history_.now()), "alert rules");
    ServeInbox();
    if (settings_.weekly_summary) SendWeeklySummary();
  }
  Schedule();
}

void AlertService::SendWeeklySummary() {
  const std::int64_t now = history_.now();
  auto last = alerter_->ledger().Value("weekly_summary_sent");
  if (!last) return;
  auto week = WeeklySummaryDue(now, last->value_or(""));
  if (!week || !history_.weekly_summary) return;
  auto summary = history_.weekly_summary(*week);
  if (!summary) {
    errors_.Report("weekly summary", summary.error());
    return;
  }
  auto queued = alerter_->QueueReport(*summary, now);
  if (!queued) {
    errors_.Report("weekly summary", queued.error());
    return;
  }
  Report("weekly summary", alerter_->ledger().SetValue("weekly_summary_sent", week->label));
  if (*queued && sender_) sender_->Wake();
  spdlog::info("weekly summary of {} queued", week->label);
}

void AlertService::ServeInbox() {
  auto requests = alerter_->ledger().PendingRequests();
  if (!requests) {
    errors_.Report("inbox", requests.error());
    return;
  }
  for (const InboxRequest& request : *requests) {
    Result<std::string> done = Error{"unknown request '" + PrintableAscii(request.kind, 40) + "'"};
    const json& p = request.payload;
    if (request.kind == "ack" && p.is_object() && p.contains("by") && p["by"].is_string()) {
      alerting::Acknowledgement ack{
          TruncateUtf8(p["by"].get<std::string>(), protocol::kMaxIdBytes), "cli", 0, {}};
      if (p.contains("note") && p["note"].is_string()) ack.note = p["note"].get<std::string>();
      std::optional<std::int64_t> incident;
      if (p.contains("incident") && p["incident"].is_number_integer()) {
        incident = p["incident"].get<std::int64_t>();
      }
      done = AcknowledgeIncident(incident, ack);
    } else if (request.kind == "maintenance" && p.is_object()) {
      done = Maintenance(p);
    } else if (request.kind == "remediation" && history_.record_remediation) {
      done = history_.record_remediation(p);
    }
    const InboxAnswer answer = done ? InboxAnswer{true, *done} : InboxAnswer{false, done.error()};
    Report("inbox", alerter_->ledger().Answer(request.id, answer, history_.now()));
  }
}

Result<std::string> AlertService::Acknowledge(std::int64_t alert, alerting::Acknowledgement ack) {
  if (!alerter_) return Error{"alerting is not running"};
  ack.at = history_.now();
  auto outcome = alerter_->Acknowledge(alert, ack, ack.at);
  if (!outcome) return Error{outcome.error()};
  const std::string name = "alert " + std::to_string(alert);
  switch (outcome->result) {
    case alerting::AckResult::kUnknownAlert:
      return Error{"no open " + name + " on " + node_ + " (resolved already?)"};
    case alerting::AckResult::kAlreadyAcknowledged: {
      const alerting::BookAlert* found = alerter_->book().Find(alert);
      return Error{name + " was acknowledged already" +
                   (found && found->ack ? " by " + found->ack->by : std::string())};
    }
    case alerting::AckResult::kAcknowledged:
      break;
  }
  if (outcome->queued && sender_) sender_->Wake();
  std::vector<std::string> recorded;
  for (const std::string& check : outcome->checks) {
    auto incident = history_.open_incident(check);
    if (!incident) continue;  // a warning: no incident, nothing the receiver counts
    if (auto written = history_.record_ack(*incident, ack); !written) {
      spdlog::error("alerting: the ack record of incident {} failed: {}", *incident,
                    written.error());
      continue;
    }
    recorded.push_back(std::to_string(*incident));
  }
  spdlog::info("{} ({}) acknowledged by {} via {}", name, Join(outcome->checks), ack.by, ack.via);
  return "Acknowledged " + name + " (" + Join(outcome->checks) + ") on " + node_ +
         (recorded.empty() ? std::string() : "; recorded for incident " + Join(recorded));
}

Result<std::string> AlertService::AcknowledgeIncident(std::optional<std::int64_t> incident,
                                                      alerting::Acknowledgement ack) {
  ack.at = history_.now();
  if (!incident) {
    std::vector<std::string> done;
    std::vector<std::int64_t> open;
    for (const auto& [id, alert] : alerter_->book().alerts()) {
      if (!alert.ack) open.push_back(id);
    }
    for (std::int64_t id : open) {
      auto acked = Acknowledge(id, ack);
      if (acked) done.push_back(*acked);
    }
    if (done.empty())
      return Error{"nothing to acknowledge: no open, unacknowledged alert on " + node_};
    std::string text;
    for (const auto& d : done) text += (text.empty() ? "" : "\n") + d;
    return text;
  }
  auto found = history_.incident(*incident);
  if (!found) return Error{found.error()};
  if (!*found) return Error{"no incident " + std::to_string(*incident) + " on " + node_};
  const auto& [check, open] = **found;
  if (!open) {
    return Error{"incident " + std::to_string(*incident) + " (" + check +
                 ") is closed already: nothing to acknowledge"};
  }
  const std::int64_t alert = alerter_->book().AlertOf(check);
  const alerting::BookAlert* book_alert = alerter_->book().Find(alert);
  if (book_alert != nullptr && !book_alert->ack) return Acknowledge(alert, ack);
  // No alert of ours (the receiver alerts for this node, or it is not confirmed yet), or one
  // acknowledged already: the record still tells the receiver.
  if (auto written = history_.record_ack(*incident, ack); !written) {
    return Error{"the ack record failed: " + written.error()};
  }
  spdlog::info("incident {} ({}) acknowledged by {} via {}", *incident, check, ack.by, ack.via);
  return "Acknowledged incident " + std::to_string(*incident) + " (" + check + ") on " + node_ +
         "; recorded";
}

Result<std::string> AlertService::Maintenance(const json& p) {
  const std::int64_t now = history_.now();
  const std::string by = p.contains("by") && p["by"].is_string()
                             ? TruncateUtf8(p["by"].get<std::string>(), protocol::kMaxIdBytes)
                             : std::string("unknown");
  const alerting::AlertBook& book = alerter_->book();
  if (p.contains("end")) {
    if (!book.InMaintenance(now)) return Error{"no maintenance window is open on " + node_};
    const std::int64_t from =
        maintenance_from_ != 0 && maintenance_from_ < now ? maintenance_from_ : now - 1;
    if (auto written = history_.record_maintenance(from, now, "ended early", by); !written) {
      return Error{"the maintenance record failed: " + written.error()};
    }
    Queued(alerter_->SetMaintenance(0, now), "alert rules");
    spdlog::info("maintenance ended by {}", by);
    return "Maintenance ended on " + node_ + "; alerts held back are sent now if still due";
  }
  if (!p.contains("seconds") || !p["seconds"].is_number_integer() || !p.contains("reason") ||
      !p["reason"].is_string()) {
    return Error{"a maintenance request needs seconds and reason"};
  }
  const std::int64_t seconds = p["seconds"].get<std::int64_t>();
  const std::string reason = p["reason"].get<std::string>();
  if (seconds < 60 || seconds > kMaxMaintenance || reason.empty() ||
      reason.size() > protocol::kMaxTextBytes || !IsPlainUtf8Text(reason)) {
    return Error{"maintenance: from 1m to 30d, with a reason of at most 1 KiB"};
  }
  const std::int64_t until = now + seconds;
  if (auto written = history_.record_maintenance(now, until, reason, by); !written) {
    return Error{"the maintenance record failed: " + written.error()};
  }
  maintenance_from_ = now;
  Report("alert rules", alerter_->ledger().SetValue("maintenance_from", std::to_string(now)));
  Queued(alerter_->SetMaintenance(until, now), "alert rules");
  Schedule();
  spdlog::info("maintenance until {} by {}: {}", FormatUtc(until), by, reason);
  return "Alerts on " + node_ + " silenced until " + FormatUtc(until) + " (" + reason +
         "); uptime is still measured";
}

void AlertService::Stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  if (poller_) poller_->Stop();
  if (sender_) sender_->Stop();
}

json AlertService::Status() const {
  json status = {{"channels", json::array()},
                 {"poller", nullptr},
                 {"open_alerts", 0},
                 {"maintenance_until", nullptr}};
  if (!alerter_) return status;
  const std::int64_t now = history_.now();
  if (sender_) status["channels"] = sender_->Status()["channels"];
  if (poller_) status["poller"] = poller_->Status();
  status["open_alerts"] = alerter_->book().alerts().size();
  if (alerter_->book().InMaintenance(now)) {
    status["maintenance_until"] = FormatUtc(alerter_->book().maintenance_until());
  }
  return status;
}

}  // namespace fleet
