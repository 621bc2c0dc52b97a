#include "receiver/alerts/telegram_poller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "alerting/telegram_bot.h"
#include "base/json_text.h"
#include "base/text.h"
#include "base/utc_time.h"
#include "receiver/alerts/alert_leases.h"
#include "receiver/alerts/alert_requests.h"

namespace fleet::receiver {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr milliseconds kConflictRetry = 60s;
constexpr milliseconds kRefusedRetry = 10min;
constexpr milliseconds kStandBy = 10s;  // another receiver polls: look again this often
constexpr milliseconds kAfterFault = 5s;
constexpr milliseconds kAnswerWait = 8s;
constexpr std::size_t kMaxBy = 64;

bool ParseNumber(std::string_view text, std::int64_t* value) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end;
}

// The same chat: equal ids, numerically when both are numbers ("-100" and "-0100" are one).
bool SameChat(const std::string& a, const std::string& b) {
  std::int64_t x = 0, y = 0;
  if (ParseNumber(a, &x) && ParseNumber(b, &y)) return x == y;
  return a == b;
}

bool Contains(const std::vector<std::int64_t>& ids, std::int64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

std::optional<std::string> PressRefusal(const alerting::ButtonPress& press,
                                        const std::optional<HistoryEntry>& alert,
                                        const std::optional<OperatorChannelsRow>& op,
                                        const std::optional<FoundationTelegram>& foundation) {
  if (!alerting::AlertKeyOf(press.data)) return "This button is not one of this receiver's alerts.";
  if (!alert) return "This alert is unknown here.";
  const bool operator_chat = op && op->telegram_chat && SameChat(*op->telegram_chat, press.chat_id);
  const bool foundation_chat = foundation && SameChat(foundation->chat_id, press.chat_id);
  if (!operator_chat && !foundation_chat) {
    return "This alert is acknowledged only in its operator's chat or the foundation's.";
  }
  const bool allowed = (op && Contains(op->ackers, press.user_id)) ||
                       (foundation && Contains(foundation->ackers, press.user_id));
  if (!allowed) {
    return "You may not acknowledge this alert (your user id is not among its ackers).";
  }
  return std::nullopt;
}

TelegramPresses::TelegramPresses(SqlLink& link, alerting::ChatTransport& transport,
                                 std::string holder, ReceiverAlertSettings settings,
                                 std::string token)
    : link_(link),
      transport_(transport),
      holder_(std::move(holder)),
      settings_(std::move(settings)),
      token_(std::move(token)),
      backoff_(1s, 5min, static_cast<std::uint64_t>(std::time(nullptr))) {}

void TelegramPresses::Report(const std::string& state, const std::string& error, std::int64_t now) {
  const std::string key = state + "|" + error;
  if (key == reported_) return;
  reported_ = key;
  if (state == "polling") {
    spdlog::info("telegram poller: polling for button presses");
  } else {
    spdlog::warn("telegram poller {}: {}", state, error);
  }
  nlohmann::json value = {{"state", state},
                          {"error", error.empty() ? nlohmann::json() : nlohmann::json(error)},
                          {"holder", holder_},
                          {"since", FormatUtc(now)}};
  if (auto done = AlertLeases(link_).SetValue("telegram_poller_state", DumpJson(value)); !done) {
    spdlog::warn("telegram poller: {}", done.error());
  }
}

std::string TelegramPresses::Handle(const alerting::ButtonPress& press, std::int64_t now,
                                    milliseconds answer_wait) {
  std::optional<HistoryEntry> alert;
  std::optional<OperatorChannelsRow> op;
  std::int64_t key = 0;
  if (auto text = alerting::AlertKeyOf(press.data); text && ParseNumber(*text, &key)) {
    auto found = AlertHistory(link_).Find(key);
    if (!found) return "Not recorded (the receiver's database failed); press again.";
    alert = *found;
    if (alert) {
      auto row = OperatorChannels(link_).Find(alert->operator_id);
      if (!row) return "Not recorded (the receiver's database failed); press again.";
      op = *row;
    }
  }
  if (auto refused = PressRefusal(press, alert, op, settings_.foundation_telegram)) {
    spdlog::warn("telegram: a press by {} (user id {}) in chat {} was refused: {}", press.user_name,
                 press.user_id, press.chat_id, *refused);
    return *refused;
  }
  AlertRequests requests(link_);
  auto id = requests.Ask({key, TruncateUtf8(press.user_name, kMaxBy), "telegram", now, std::nullopt,
                          press.user_id, press.chat_id},
                         now);
  if (!id) return "Not recorded (the receiver's database failed); press again.";
  const auto deadline = std::chrono::steady_clock::now() + answer_wait;
  for (;;) {
    auto answer = requests.AnswerOf(*id);
    if (answer && *answer) return (*answer)->text;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(100ms);
  }
  return "Received: the acknowledgement is being recorded.";
}

Result<TelegramPresses::Step> TelegramPresses::PollOnce(std::int64_t now,
                                                        milliseconds answer_wait) {
  Step step;
  AlertLeases leases(link_);
  auto taken = leases.Take(kPollerLease, holder_, now, kPollerLeaseSeconds);
  if (!taken) return Error{taken.error()};
  if (!*taken) {
    step.wait = kStandBy;
    return step;
  }
  step.polled = true;
  std::int64_t offset = 0;
  auto saved = leases.Value("telegram_offset");
  if (!saved) return Error{saved.error()};
  if (*saved) ParseNumber(**saved, &offset);
  alerting::TelegramBot bot(transport_, settings_.telegram->api_base, token_);
  alerting::TelegramBot::Polled polled = bot.Poll(offset, kPollSeconds);
  step.answer = polled.answer;
  switch (polled.answer.verdict) {
    case alerting::ApiVerdict::kDone:
      break;
    case alerting::ApiVerdict::kConflict:
      Report("conflict", polled.answer.error, now);
      step.wait = kConflictRetry;
      return step;
    case alerting::ApiVerdict::kRefused:
      Report("refused", polled.answer.error, now);
      step.wait = kRefusedRetry;
      return step;
    case alerting::ApiVerdict::kRateLimited:
      Report("rate limited", polled.answer.error, now);
      step.wait = std::max(polled.answer.retry_after, milliseconds(1000));
      return step;
    case alerting::ApiVerdict::kRetryLater:
      Report("retrying", polled.answer.error, now);
      step.wait = backoff_.Next();
      return step;
  }
  backoff_.Reset();
  Report("polling", "", now);
  for (const alerting::ButtonPress& press : polled.updates.presses) {
    const std::string notice = Handle(press, now, answer_wait);
    (void)bot.Answer(press.callback_query_id, notice);
    ++step.presses;
  }
  if (polled.updates.next_offset > offset) {
    if (auto kept = leases.SetValue("telegram_offset", std::to_string(polled.updates.next_offset));
        !kept) {
      return Error{"keeping the poll offset: " + kept.error()};
    }
  }
  return step;
}

Outcome TelegramPresses::Resign() { return AlertLeases(link_).Release(kPollerLease, holder_); }

TelegramPoller::TelegramPoller(std::string db, std::string holder, ReceiverAlertSettings settings,
                               std::string token, TransportFactory transport)
    : db_(std::move(db)),
      holder_(std::move(holder)),
      settings_(std::move(settings)),
      token_(std::move(token)),
      make_transport_(std::move(transport)) {}

TelegramPoller::~TelegramPoller() { Stop(); }

void TelegramPoller::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void TelegramPoller::Stop() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TelegramPoller::Sleep(milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [&] { return stop_.load(); });
}

void TelegramPoller::Loop() {
  while (!stop_) {
    auto link = OpenSqlLink(db_);
    if (!link) {
      spdlog::error("telegram poller: cannot open the database: {}", link.error());
      Sleep(kAfterFault);
      continue;
    }
    auto transport = make_transport_(&stop_);
    if (!transport) {
      spdlog::error("telegram poller: {}", transport.error());
      Sleep(kAfterFault);
      continue;
    }
    TelegramPresses presses(**link, **transport, holder_, settings_, token_);
    while (!stop_) {
      auto step = presses.PollOnce(static_cast<std::int64_t>(std::time(nullptr)), kAnswerWait);
      if (!step) {
        spdlog::error("telegram poller: {}", step.error());
        Sleep(kAfterFault);
        break;
      }
      if (step->wait.count() > 0) Sleep(step->wait);
    }
    if (stop_) (void)presses.Resign();
  }
}

}  // namespace fleet::receiver
