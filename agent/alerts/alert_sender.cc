#include "agent/alerts/alert_sender.h"

#include <spdlog/spdlog.h>

#include "agent/alerts/alert_ledger.h"
#include "agent/logging/thread_guard.h"
#include "alerting/alert_json.h"
#include "alerting/delivery.h"
#include "alerting/send_pace.h"
#include "base/backoff.h"
#include "base/utc_time.h"

namespace fleet {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr milliseconds kIdlePoll = 2s;     // look at the outbox even without a Wake()
constexpr milliseconds kReopenDelay = 5s;  // the ledger or the transport could not be made
constexpr milliseconds kBackoffBase = 1s;
constexpr milliseconds kBackoffCap = 5min;

std::int64_t WallNow() { return ToUnixSeconds(std::chrono::system_clock::now()); }

std::int64_t Seconds(milliseconds delay) { return (delay.count() + 999) / 1000; }

}  // namespace

struct AlertSender::Channel {
  Channel(std::string channel_name, std::unique_ptr<alerting::AlertChannel> made,
          Backoff backoff_of)
      : name(std::move(channel_name)),
        channel(std::move(made)),
        pace(alerting::SendPace::ForChannel(name)),
        backoff(backoff_of) {}
  std::string name;
  std::unique_ptr<alerting::AlertChannel> channel;
  alerting::SendPace pace;
  Backoff backoff;
  steady_clock::time_point hold_until{};
  // Shown by Status(), under the sender's mutex.
  std::string state = "idle";
  std::string last_error;
  std::string last_sent;
  std::string next_attempt;
  std::int64_t sent = 0;
};

AlertSender::AlertSender(std::string state_dir, ChannelFactory channels, TransportFactory transport)
    : state_dir_(std::move(state_dir)),
      make_channels_(std::move(channels)),
      make_transport_(std::move(transport)) {}

AlertSender::~AlertSender() { Stop(); }

void AlertSender::Start() {
  thread_ = std::thread([this] {
    RunGuarded(
        "alert sender", [this] { Loop(); }, ExitOnFatal);
  });
}

void AlertSender::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void AlertSender::Stop() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

nlohmann::json AlertSender::Status() const {
  std::lock_guard lock(mutex_);
  nlohmann::json channels = nlohmann::json::array();
  auto text = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  for (const auto& c : channels_) {
    channels.push_back({{"name", c->name},
                        {"state", c->state},
                        {"last_error", text(c->last_error)},
                        {"last_sent", text(c->last_sent)},
                        {"next_attempt", text(c->next_attempt)},
                        {"sent", c->sent}});
  }
  return {{"channels", channels}, {"fault", text(fault_)}};
}

void AlertSender::SetState(Channel& channel, std::string state, std::string error) {
  std::lock_guard lock(mutex_);
  channel.state = std::move(state);
  if (!error.empty()) channel.last_error = std::move(error);
}

void AlertSender::Sleep(milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [&] { return stop_.load() || woken_; });
  woken_ = false;
}

void AlertSender::Loop() {
  std::unique_ptr<AlertLedger> ledger;
  std::unique_ptr<alerting::ChatTransport> transport;
  const auto seed = static_cast<std::uint64_t>(steady_clock::now().time_since_epoch().count());
  while (!stop_) {
    std::string fault;
    if (!ledger) {
      auto opened = AlertLedger::Open(state_dir_, false);
      if (opened)
        ledger = std::move(opened).value();
      else
        fault = "cannot open the outbox: " + opened.error();
    }
    if (ledger && !transport) {
      auto made = make_transport_(&stop_);
      if (made) {
        transport = std::move(made).value();
        auto named = make_channels_(*transport);
        if (!named) {
          fault = "alert channels: " + named.error();
          transport.reset();
        } else {
          std::lock_guard lock(mutex_);
          channels_.clear();
          for (auto& n : *named) {
            channels_.push_back(std::make_unique<Channel>(
                n.name, std::move(n.channel),
                Backoff(kBackoffBase, kBackoffCap, seed + channels_.size())));
          }
        }
      } else {
        fault = "alert transport: " + made.error();
      }
    }
    {
      std::lock_guard lock(mutex_);
      fault_ = fault;
    }
    if (!fault.empty()) {
      errors_.Report("alert sender", fault);
      Sleep(kReopenDelay);
      continue;
    }
    errors_.Clear("alert sender");
    bool tried = false;
    milliseconds wait = kIdlePoll;
    for (auto& channel : channels_) {
      if (stop_) break;
      const auto now = steady_clock::now();
      if (now < channel->hold_until) {
        wait = std::min(wait, std::chrono::duration_cast<milliseconds>(channel->hold_until - now));
        continue;
      }
      const std::int64_t now_ms =
          std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
      if (const std::int64_t pace = channel->pace.WaitMs(now_ms); pace > 0) {
        wait = std::min(wait, milliseconds(pace));
        continue;
      }
      tried = SendNext(*ledger, *channel) || tried;
    }
    if (!tried) Sleep(std::max(wait, milliseconds(10)));
  }
}

bool AlertSender::SendNext(AlertLedger& ledger, Channel& c) {
  const std::int64_t now = WallNow();
  auto next = ledger.NextDue(c.name, now);
  if (!next) {
    errors_.Report("outbox " + c.name, next.error());
    c.hold_until = steady_clock::now() + kReopenDelay;
    return false;
  }
  if (!*next) return false;
  const OutboxRow& row = **next;
  auto alert = alerting::AlertFromJson(nlohmann::json::parse(row.alert_json, nullptr, false));
  if (!alert) {
    (void)ledger.MarkFailed(row.id, "unreadable: " + alert.error(), now);
    return true;
  }
  alerting::ApiAnswer answer;
  if (row.action == OutboxAction::kEdit) {
    auto first = ledger.FirstMessage(row.alert, c.name);
    if (!first || !*first) {
      // The message to edit was never taken (refused, or sent before this channel existed).
      (void)ledger.MarkFailed(row.id, "no message of this alert to edit", now);
      return true;
    }
    answer = c.channel->Edit(**first, *alert);
  } else {
    answer = c.channel->Send(*alert);
  }
  const auto steady = steady_clock::now();
  const std::int64_t steady_ms =
      std::chrono::duration_cast<milliseconds>(steady.time_since_epoch()).count();
  c.pace.Take(steady_ms);
  const std::int64_t done_at = WallNow();
  const alerting::Delivery delivery =
      alerting::DecideDelivery(answer, row.action == OutboxAction::kEdit, c.backoff.Next());
  switch (delivery.action) {
    case alerting::DeliveryAction::kSent: {
      if (auto marked = ledger.MarkSent(row, answer.message_id, done_at); !marked) {
        errors_.Report("outbox " + c.name, marked.error());
      }
      c.backoff.Reset();
      errors_.Clear("channel " + c.name);
      std::lock_guard lock(mutex_);
      c.state = delivery.channel_state;
      c.last_sent = FormatUtc(done_at);
      c.next_attempt.clear();
      ++c.sent;
      return true;
    }
    case alerting::DeliveryAction::kSetAside:
      spdlog::error("alert to {} refused for good: {}", c.name, answer.error);
      (void)ledger.MarkFailed(row.id, answer.error, done_at);
      SetState(c, delivery.channel_state, answer.error);
      return true;
    case alerting::DeliveryAction::kHoldChannel:
      (void)ledger.HoldChannel(c.name, done_at + Seconds(delivery.delay), answer.error);
      break;
    case alerting::DeliveryAction::kRetryMessage:
      (void)ledger.Reschedule(row.id, done_at + Seconds(delivery.delay), answer.error);
      break;
  }
  c.hold_until = steady + delivery.delay;
  errors_.Report("channel " + c.name, c.name + " " + delivery.channel_state + ": " + answer.error);
  SetState(c, delivery.channel_state, answer.error);
  std::lock_guard lock(mutex_);
  c.next_attempt = FormatUtc(std::chrono::system_clock::now() +
                             std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 c.hold_until - steady_clock::now()));
  return true;
}

}  // namespace fleet
