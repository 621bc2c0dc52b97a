// TelegramPoller: the one getUpdates poller of the receiver's bot (`telegram.poll: true`),
// under the "telegram_poller" lease (alert_leases.h): only one may run per bot token (a
// second gets 409), so of several receivers on one database exactly one polls and another
// takes over when it stops. A press names a receiver alert ("ack:17"); only a user in the
// alert's operator's ackers or in the foundation's, pressing in the operator's chat or the
// foundation's, may acknowledge (anyone in a group can press): PressRefusal. An allowed press
// becomes an acknowledgement request with the receiver's clock (alert_requests.h, via
// "telegram"), which the alert worker applies within a second (the book, the messages
// edited, the alert history); the press is answered (answerCallbackQuery) with the worker's
// answer, or, when none came within kAnswerWait, with "received" (the request stays and is
// applied). The poll offset is kept in the database after each batch, so a restart, or
// another receiver taking over, neither loses nor replays presses. A 409 is reported in the
// log and in `fleet-receiver alerts` and retried after a minute, never in a tight loop; a
// refused token every ten minutes; rate limits as asked; other faults with backoff.
// TelegramPresses is one poll on the caller's link and transport (tests); TelegramPoller the
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "alerting/telegram_api.h"
#include "base/backoff.h"
#include "receiver/alerts/alert_history.h"
#include "receiver/alerts/alert_sender.h"
#include "receiver/alerts/alerts_config.h"
#include "receiver/alerts/operator_channels.h"

namespace fleet::receiver {

inline constexpr int kPollSeconds = 25;
inline constexpr std::int64_t kPollerLeaseSeconds = 60;  // beyond a long poll and its margin

// The notice for a press that may not acknowledge, or nullopt when it may. `alert`: the
// history row of the alert the press names (nullopt: none); `operator_channels`: its
// operator's row (nullopt: none).
std::optional<std::string> PressRefusal(const alerting::ButtonPress& press,
                                        const std::optional<HistoryEntry>& alert,
                                        const std::optional<OperatorChannelsRow>& operator_channels,
                                        const std::optional<FoundationTelegram>& foundation);

class TelegramPresses {
 public:
  TelegramPresses(SqlLink& link, alerting::ChatTransport& transport, std::string holder,
                  ReceiverAlertSettings settings, std::string token);

  struct Step {
    bool polled = false;  // this receiver holds the poller lease (and polled)
    alerting::ApiAnswer answer;
    int presses = 0;
    std::chrono::milliseconds wait{0};  // before the next poll
  };
  // answer_wait: how long to wait for the worker's answer to a press.
  Result<Step> PollOnce(std::int64_t now, std::chrono::milliseconds answer_wait);
  Outcome Resign();

 private:
  std::string Handle(const alerting::ButtonPress& press, std::int64_t now,
                     std::chrono::milliseconds answer_wait);
  void Report(const std::string& state, const std::string& error, std::int64_t now);

  SqlLink& link_;
  alerting::ChatTransport& transport_;
  std::string holder_;
  ReceiverAlertSettings settings_;
  std::string token_;
  Backoff backoff_;
  std::string reported_;
};

class TelegramPoller {
 public:
  TelegramPoller(std::string db, std::string holder, ReceiverAlertSettings settings,
                 std::string token, TransportFactory transport);
  ~TelegramPoller();
  TelegramPoller(const TelegramPoller&) = delete;
  TelegramPoller& operator=(const TelegramPoller&) = delete;

  void Start();
  void Stop();  // interrupts a long poll, gives the lease up, joins

 private:
  void Loop();
  void Sleep(std::chrono::milliseconds delay);

  std::string db_;
  std::string holder_;
  ReceiverAlertSettings settings_;
  std::string token_;
  TransportFactory make_transport_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace fleet::receiver
