// AlertSender: delivers the receiver's outbox (alert_outbox.h) on a thread of its own, so
// alerting never delays ingest; every receiver runs one. OutboxSender is one thread's
// sending over its link and transport: each pass looks at every channel with waiting
// messages and, when the channel may send now, CLAIMS its oldest message in the database
// (so two receivers never send the same row, and a channel's messages keep their order)
// and sends it over the channel made for it (alert_channels.h: an operator's channels from
// the registry, refreshed when the registry changes and every minute). What the channel's
// answer means is alerting/delivery.h's: taken (the message id kept for edits), a rate limit
// (the whole channel waits as asked), a retry with full-jitter backoff (5xx, garbage, no
// answer: 1 s to 5 min), a channel refused as configured (401/403/404: told once in the log
// and in `fleet-receiver alerts`, retried every 10 minutes with its messages kept), a
// message refused for itself (400) or an edit of a message never sent (set aside). Pace: a
// token bucket per channel (alerting/send_pace.h), one for the bot across all Telegram chats
// (about 25 a second), and, since several receivers may send to one channel, the messages
// every receiver sent to it in the last minute (at most the chat service's per-minute limit).
// An operator's channel no longer in the registry has its messages dropped; a foundation
// channel this receiver lacks leaves them to a receiver that has it. The clocks are the
// caller's (tests), the state of each channel is written to the database when it changes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "alerting/channels.h"
#include "alerting/chat_transport.h"
#include "alerting/send_pace.h"
#include "base/backoff.h"
#include "receiver/alerts/alert_channels.h"
#include "receiver/alerts/alert_outbox.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

// A claim outlives any exchange (a transport's deadline is 20 s) with room to spare.
inline constexpr std::int64_t kClaimSeconds = 120;

using TransportFactory =
    std::function<Result<std::unique_ptr<alerting::ChatTransport>>(const std::atomic<bool>* abort)>;

struct SenderClocks {
  std::function<std::int64_t()> wall;       // unix seconds
  std::function<std::int64_t()> steady_ms;  // a steady clock, milliseconds
};
SenderClocks RealClocks();

class OutboxSender {
 public:
  OutboxSender(SqlLink& link, alerting::ChatTransport& transport, std::string holder,
               ReceiverAlertSettings settings, ReceiverAlertSecrets secrets, SenderClocks clocks);
  ~OutboxSender();

  // One message at most per channel; the time until a channel may send again (at most 1 s),
  // or an error of the database (the caller waits and tries again).
  Result<std::chrono::milliseconds> Pass();

 private:
  struct Channel;
  Outcome Refresh();
  // Sends one claimed row of the channel; false when it could not claim one.
  Result<bool> SendOne(Channel& channel);
  void SetState(Channel& channel, const std::string& state, const std::string& error,
                std::optional<std::int64_t> sent_at);

  SqlLink& link_;
  alerting::ChatTransport& transport_;
  std::string holder_;
  ReceiverAlertSettings settings_;
  ReceiverAlertSecrets secrets_;
  SenderClocks clocks_;
  std::unique_ptr<ReceiverChannels> channels_;
  std::string version_;
  std::int64_t refreshed_at_ = 0;
  std::map<std::string, std::unique_ptr<Channel>> states_;
  alerting::SendPace bot_pace_{25, 40};  // the bot, across every Telegram chat
  std::uint64_t seed_ = 0;
};

class AlertSender {
 public:
  AlertSender(std::string db, std::string holder, ReceiverAlertSettings settings,
              ReceiverAlertSecrets secrets, TransportFactory transport);
  ~AlertSender();
  AlertSender(const AlertSender&) = delete;
  AlertSender& operator=(const AlertSender&) = delete;

  void Start();
  void Wake();  // the outbox has new messages
  void Stop();  // interrupts an exchange in flight, joins

 private:
  void Loop();
  void Sleep(std::chrono::milliseconds delay);

  std::string db_;
  std::string holder_;
  ReceiverAlertSettings settings_;
  ReceiverAlertSecrets secrets_;
  TransportFactory make_transport_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
};

}  // namespace fleet::receiver
