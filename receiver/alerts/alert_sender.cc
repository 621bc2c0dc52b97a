#include "receiver/alerts/alert_sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "alerting/alert_json.h"
#include "alerting/delivery.h"
#include "receiver/alerts/alert_routes.h"
#include "receiver/alerts/operator_channels.h"

namespace fleet::receiver {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr milliseconds kIdle = 1s;
constexpr milliseconds kReopenDelay = 5s;
constexpr milliseconds kSharedPaceHold = 5s;
constexpr std::int64_t kRefreshEvery = 60;  // seconds: the registry's channels looked at again
constexpr milliseconds kBackoffBase = 1s;
constexpr milliseconds kBackoffCap = 5min;

// What the chat services take per chat and minute (their documented limits, a little under).
std::int64_t PerMinute(std::string_view kind) {
  if (kind == "telegram") return 20;
  if (kind == "discord") return 30;
  return 60;
}

std::int64_t Seconds(milliseconds delay) { return (delay.count() + 999) / 1000; }

}  // namespace

SenderClocks RealClocks() {
  return {
      [] {
        return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
      },
      [] {
        return static_cast<std::int64_t>(std::chrono::duration_cast<milliseconds>(
                                             std::chrono::steady_clock::now().time_since_epoch())
                                             .count());
      }};
}

struct OutboxSender::Channel {
  Channel(std::string channel_name, std::uint64_t seed)
      : name(std::move(channel_name)),
        kind(SplitChannel(name).second),
        pace(alerting::SendPace::ForChannel(kind)),
        backoff(kBackoffBase, kBackoffCap, seed) {}
  std::string name;
  std::string kind;
  std::unique_ptr<alerting::AlertChannel> channel;  // made when first needed
  alerting::SendPace pace;
  Backoff backoff;
  std::int64_t hold_until_ms = 0;
  std::string state;  // as last written to the database
  std::int64_t state_written = 0;
  bool told_not_here = false;
};

OutboxSender::OutboxSender(SqlLink& link, alerting::ChatTransport& transport, std::string holder,
                           ReceiverAlertSettings settings, ReceiverAlertSecrets secrets,
                           SenderClocks clocks)
    : link_(link),
      transport_(transport),
      holder_(std::move(holder)),
      settings_(std::move(settings)),
      secrets_(std::move(secrets)),
      clocks_(std::move(clocks)),
      seed_(static_cast<std::uint64_t>(clocks_.steady_ms())) {}

OutboxSender::~OutboxSender() = default;

Outcome OutboxSender::Refresh() {
  OperatorChannels registry(link_);
  auto version = registry.Version();
  if (!version) return Error{version.error()};
  const std::int64_t now = clocks_.wall();
  if (channels_ && *version == version_ && now - refreshed_at_ < kRefreshEvery &&
      now >= refreshed_at_) {
    return Success();
  }
  auto rows = registry.All();
  if (!rows) return Error{rows.error()};
  channels_ = std::make_unique<ReceiverChannels>(settings_, secrets_, std::move(rows).value());
  version_ = *version;
  refreshed_at_ = now;
  // Made again on their next message, from the registry as it is now.
  for (auto& [name, state] : states_) state->channel.reset();
  return Success();
}

void OutboxSender::SetState(Channel& c, const std::string& state, const std::string& error,
                            std::optional<std::int64_t> sent_at) {
  const bool changed = state != c.state;
  if (changed && state != "ok") {
    spdlog::warn("alert channel {} {}: {}", c.name, state, error);
  } else if (changed && !c.state.empty()) {
    spdlog::info("alert channel {} works again", c.name);
  }
  c.state = state;
  // Written at every change, and the last sending time at most once a minute.
  const std::int64_t now = clocks_.wall();
  if (!changed && (!sent_at || now - c.state_written < 60)) return;
  c.state_written = now;
  ChannelState row{c.name, state, error.empty() ? std::nullopt : std::optional(error), sent_at,
                   now};
  if (auto done = AlertOutbox(link_).SetChannelState(row); !done) {
    spdlog::warn("alert channel {}: {}", c.name, done.error());
  }
}

Result<milliseconds> OutboxSender::Pass() {
  if (auto refreshed = Refresh(); !refreshed) return Error{refreshed.error()};
  AlertOutbox outbox(link_);
  auto waiting = outbox.Waiting();
  if (!waiting) return Error{waiting.error()};
  milliseconds wait = kIdle;
  for (const std::string& name : *waiting) {
    auto& slot = states_[name];
    if (!slot) slot = std::make_unique<Channel>(name, seed_ + states_.size());
    Channel& c = *slot;
    switch (channels_->Status(name)) {
      case ReceiverChannels::Known::kGone: {
        auto dropped =
            outbox.DropChannel(name, "the channel is no longer in the registry", clocks_.wall());
        if (!dropped) return Error{dropped.error()};
        spdlog::warn(
            "alerting: {} waiting message(s) for {} dropped: the channel is no longer "
            "in the registry",
            *dropped, name);
        continue;
      }
      case ReceiverChannels::Known::kNotHere:
        if (!c.told_not_here) {
          spdlog::warn(
              "alerting: messages for {} wait for a receiver that has that channel (this "
              "one's --alerts has none)",
              name);
          c.told_not_here = true;
        }
        continue;
      case ReceiverChannels::Known::kYes:
        break;
    }
    const std::int64_t steady = clocks_.steady_ms();
    if (steady < c.hold_until_ms) {
      wait = std::min(wait, milliseconds(c.hold_until_ms - steady));
      continue;
    }
    std::int64_t pace = c.pace.WaitMs(steady);
    if (c.kind == "telegram") pace = std::max(pace, bot_pace_.WaitMs(steady));
    if (pace > 0) {
      wait = std::min(wait, milliseconds(pace));
      continue;
    }
    auto recent = outbox.SentSince(name, clocks_.wall() - 60);
    if (!recent) return Error{recent.error()};
    if (*recent >= PerMinute(c.kind)) {
      c.hold_until_ms = steady + kSharedPaceHold.count();
      continue;
    }
    auto sent = SendOne(c);
    if (!sent) return Error{sent.error()};
    if (*sent) wait = milliseconds(0);
  }
  return wait;
}

Result<bool> OutboxSender::SendOne(Channel& c) {
  AlertOutbox outbox(link_);
  const std::int64_t now = clocks_.wall();
  auto claimed = outbox.Claim(c.name, holder_, now, kClaimSeconds);
  if (!claimed) return Error{claimed.error()};
  if (!*claimed) return false;
  const OutboxRow& row = **claimed;
  auto alert =
      alerting::AlertFromJson(nlohmann::json::parse(row.message.alert_json, nullptr, false));
  if (!alert) {
    if (auto done = outbox.SetAside(row.id, "failed", "unreadable: " + alert.error(), now); !done) {
      return Error{done.error()};
    }
    return true;
  }
  if (!c.channel) c.channel = channels_->Make(c.name, transport_);
  const bool edit = row.message.action == OutboxAction::kEdit;
  alerting::ApiAnswer answer;
  if (edit) {
    auto first = outbox.FirstMessage(row.message.key, c.name);
    if (!first) return Error{first.error()};
    if (!*first) {
      // The message to edit was never taken (refused, or sent before this channel existed).
      if (auto done = outbox.SetAside(row.id, "failed", "no message of this alert to edit", now);
          !done) {
        return Error{done.error()};
      }
      return true;
    }
    answer = c.channel->Edit(**first, *alert);
  } else {
    answer = c.channel->Send(*alert);
  }
  const std::int64_t steady = clocks_.steady_ms();
  c.pace.Take(steady);
  if (c.kind == "telegram") bot_pace_.Take(steady);
  const std::int64_t done_at = clocks_.wall();
  const alerting::Delivery delivery = alerting::DecideDelivery(answer, edit, c.backoff.Next());
  Outcome written = Success();
  switch (delivery.action) {
    case alerting::DeliveryAction::kSent:
      written = outbox.MarkSent(row, holder_, answer.message_id, done_at);
      c.backoff.Reset();
      SetState(c, delivery.channel_state, "", done_at);
      break;
    case alerting::DeliveryAction::kSetAside:
      spdlog::error("alert {} to {} refused for good: {}", row.message.key, c.name, answer.error);
      written = outbox.SetAside(row.id, "failed", answer.error, done_at);
      SetState(c, delivery.channel_state, "", std::nullopt);
      break;
    case alerting::DeliveryAction::kHoldChannel:
      written = outbox.Reschedule(row.id, holder_, done_at + Seconds(delivery.delay), answer.error);
      if (written)
        written = outbox.HoldChannel(c.name, done_at + Seconds(delivery.delay), answer.error);
      c.hold_until_ms = steady + delivery.delay.count();
      SetState(c, delivery.channel_state, answer.error, std::nullopt);
      break;
    case alerting::DeliveryAction::kRetryMessage:
      written = outbox.Reschedule(row.id, holder_, done_at + Seconds(delivery.delay), answer.error);
      c.hold_until_ms = steady + delivery.delay.count();
      SetState(c, delivery.channel_state, answer.error, std::nullopt);
      break;
  }
  if (!written) return Error{written.error()};
  return true;
}

AlertSender::AlertSender(std::string db, std::string holder, ReceiverAlertSettings settings,
                         ReceiverAlertSecrets secrets, TransportFactory transport)
    : db_(std::move(db)),
      holder_(std::move(holder)),
      settings_(std::move(settings)),
      secrets_(std::move(secrets)),
      make_transport_(std::move(transport)) {}

AlertSender::~AlertSender() { Stop(); }

void AlertSender::Start() {
  thread_ = std::thread([this] { Loop(); });
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

void AlertSender::Sleep(milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [&] { return stop_.load() || woken_; });
  woken_ = false;
}

void AlertSender::Loop() {
  std::string fault;
  auto report = [&](const std::string& now_fault) {
    if (now_fault == fault) return;
    if (now_fault.empty()) {
      spdlog::info("alert sender works again");
    } else {
      spdlog::error("alert sender: {}", now_fault);
    }
    fault = now_fault;
  };
  while (!stop_) {
    auto link = OpenSqlLink(db_);
    if (!link) {
      report("cannot open the outbox: " + link.error());
      Sleep(kReopenDelay);
      continue;
    }
    auto transport = make_transport_(&stop_);
    if (!transport) {
      report("alert transport: " + transport.error());
      Sleep(kReopenDelay);
      continue;
    }
    OutboxSender sender(**link, **transport, holder_, settings_, secrets_, RealClocks());
    while (!stop_) {
      auto wait = sender.Pass();
      if (!wait) {
        report(wait.error());
        Sleep(kReopenDelay);
        break;  // a fresh link: the database may have gone and come back
      }
      report("");
      if (wait->count() > 0) Sleep(*wait);
    }
  }
}

}  // namespace fleet::receiver
