#include "agent/alerts/button_poller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "agent/alerts/alert_ledger.h"
#include "agent/logging/thread_guard.h"
#include "alerting/telegram_bot.h"
#include "base/backoff.h"

namespace fleet {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr int kPollSeconds = 50;
constexpr milliseconds kConflictRetry = 60s;
constexpr milliseconds kRefusedRetry = 10min;
constexpr milliseconds kReopenDelay = 5s;

bool IsNumber(std::string_view text, std::int64_t* value) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end;
}

}  // namespace

ButtonPoller::ButtonPoller(std::string state_dir, std::string api_base, std::string token,
                           std::string chat_id, std::vector<std::int64_t> ackers,
                           Acknowledge acknowledge, TransportFactory transport)
    : state_dir_(std::move(state_dir)),
      api_base_(std::move(api_base)),
      token_(std::move(token)),
      chat_id_(std::move(chat_id)),
      ackers_(std::move(ackers)),
      acknowledge_(std::move(acknowledge)),
      make_transport_(std::move(transport)) {}

ButtonPoller::~ButtonPoller() { Stop(); }

void ButtonPoller::Start() {
  thread_ = std::thread([this] {
    RunGuarded(
        "button poller", [this] { Loop(); }, ExitOnFatal);
  });
}

void ButtonPoller::Stop() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

nlohmann::json ButtonPoller::Status() const {
  std::lock_guard lock(mutex_);
  return {{"state", state_},
          {"last_error", last_error_.empty() ? nlohmann::json() : nlohmann::json(last_error_)},
          {"presses", presses_},
          {"acknowledged", acknowledged_}};
}

void ButtonPoller::SetState(const std::string& state, const std::string& error) {
  std::lock_guard lock(mutex_);
  state_ = state;
  if (!error.empty()) last_error_ = error;
}

void ButtonPoller::Sleep(milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [&] { return stop_.load(); });
}

std::optional<std::string> ButtonPoller::Refusal(const alerting::ButtonPress& press,
                                                 const std::vector<std::int64_t>& ackers,
                                                 const std::string& chat_id) {
  if (!alerting::AlertKeyOf(press.data)) return "This button is not one of this node's alerts.";
  std::int64_t chat = 0;
  std::int64_t pressed_in = 0;
  if (IsNumber(chat_id, &chat) && (!IsNumber(press.chat_id, &pressed_in) || pressed_in != chat)) {
    return "This alert is acknowledged only in its own chat.";
  }
  if (std::find(ackers.begin(), ackers.end(), press.user_id) == ackers.end()) {
    return "You may not acknowledge this alert (your user id is not in ackers).";
  }
  return std::nullopt;
}

void ButtonPoller::Loop() {
  std::unique_ptr<AlertLedger> ledger;
  std::unique_ptr<alerting::ChatTransport> transport;
  Backoff backoff(
      1s, 5min,
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  while (!stop_) {
    if (!ledger) {
      auto opened = AlertLedger::Open(state_dir_, false);
      if (!opened) {
        errors_.Report("poller", "cannot open the history: " + opened.error());
        SetState("unavailable", opened.error());
        Sleep(kReopenDelay);
        continue;
      }
      ledger = std::move(opened).value();
    }
    if (!transport) {
      auto made = make_transport_(&stop_);
      if (!made) {
        errors_.Report("poller", made.error());
        SetState("unavailable", made.error());
        Sleep(kReopenDelay);
        continue;
      }
      transport = std::move(made).value();
    }
    std::int64_t offset = 0;
    if (auto saved = ledger->Value("telegram_offset"); saved && *saved) {
      IsNumber(**saved, &offset);
    }
    alerting::TelegramBot bot(*transport, api_base_, token_);
    SetState("polling", "");
    const alerting::TelegramBot::Polled polled = bot.Poll(offset, kPollSeconds);
    if (stop_) break;
    const alerting::ApiAnswer& answer = polled.answer;
    switch (answer.verdict) {
      case alerting::ApiVerdict::kDone:
        break;
      case alerting::ApiVerdict::kConflict:
        errors_.Report("poller", "telegram: " + answer.error);
        SetState("conflict", answer.error);
        Sleep(kConflictRetry);
        continue;
      case alerting::ApiVerdict::kRefused:
        errors_.Report("poller", "telegram refuses getUpdates: " + answer.error);
        SetState("refused", answer.error);
        Sleep(kRefusedRetry);
        continue;
      case alerting::ApiVerdict::kRateLimited:
        SetState("rate limited", answer.error);
        Sleep(std::max(answer.retry_after, milliseconds(1000)));
        continue;
      case alerting::ApiVerdict::kRetryLater:
        errors_.Report("poller", "telegram: " + answer.error);
        SetState("retrying", answer.error);
        Sleep(backoff.Next());
        continue;
    }
    backoff.Reset();
    errors_.Clear("poller");
    for (const alerting::ButtonPress& press : polled.updates.presses) {
      std::string notice;
      bool acked = false;
      if (auto refused = Refusal(press, ackers_, chat_id_)) {
        notice = *refused;
        spdlog::warn("telegram: a press by {} (user id {}) was refused: {}", press.user_name,
                     press.user_id, notice);
      } else {
        std::int64_t alert = 0;
        IsNumber(*alerting::AlertKeyOf(press.data), &alert);
        notice = acknowledge_(alert, press);
        acked = true;
      }
      (void)bot.Answer(press.callback_query_id, notice);
      std::lock_guard lock(mutex_);
      ++presses_;
      if (acked) ++acknowledged_;
    }
    if (polled.updates.next_offset > offset) {
      if (auto kept =
              ledger->SetValue("telegram_offset", std::to_string(polled.updates.next_offset));
          !kept) {
        errors_.Report("poller", "keeping the poll offset: " + kept.error());
      }
    }
  }
}

}  // namespace fleet
