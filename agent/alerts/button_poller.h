// ButtonPoller: takes the Telegram "Acknowledge" presses for a node alerting on its own,
// on its own thread, by getUpdates long polling (alerts.telegram.poll; only one poller may
// run per bot token, so only with a bot of the node's own). A press names an alert
// (callback_data "ack:<id>"); only the user ids in `ackers` may acknowledge (anyone in a
// group can press) and only in the configured chat; the press is handed to the daemon's
// loop (`acknowledge`, which answers with the notice the presser sees) and then answered
// with answerCallbackQuery. The poll offset is kept in history.db after each batch, so a
// restart neither loses nor replays presses (a press replayed after a crash finds its alert
// already acknowledged). A 409 (another poller on this token) is reported in Status() and
// the log and retried after a minute, never in a tight loop; 401/404 (bad token) every ten
// minutes; rate limits as asked; other faults with backoff.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/alerts/alert_sender.h"
#include "alerting/telegram_api.h"

namespace fleet {

class ButtonPoller {
 public:
  // Called on the poller's thread; returns the notice for the presser. It must not block
  // for long (the daemon's loop answers within seconds).
  using Acknowledge = std::function<std::string(std::int64_t alert, const alerting::ButtonPress&)>;

  ButtonPoller(std::string state_dir, std::string api_base, std::string token, std::string chat_id,
               std::vector<std::int64_t> ackers, Acknowledge acknowledge,
               TransportFactory transport);
  ~ButtonPoller();
  ButtonPoller(const ButtonPoller&) = delete;
  ButtonPoller& operator=(const ButtonPoller&) = delete;

  void Start();
  void Stop();
  // {"state": "polling"|"conflict"|"refused"|..., "last_error", "presses", "acknowledged"}
  nlohmann::json Status() const;

  // Pure: the notice for a press that may not acknowledge (not in ackers, another chat, not
  // an alert of ours), or nullopt when it may.
  static std::optional<std::string> Refusal(const alerting::ButtonPress& press,
                                            const std::vector<std::int64_t>& ackers,
                                            const std::string& chat_id);

 private:
  void Loop();
  void Sleep(std::chrono::milliseconds delay);
  void SetState(const std::string& state, const std::string& error);

  std::string state_dir_;
  std::string api_base_;
  std::string token_;
  std::string chat_id_;
  std::vector<std::int64_t> ackers_;
  Acknowledge acknowledge_;
  TransportFactory make_transport_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  RepeatingErrorLog errors_;
  // Guarded by mutex_.
  std::string state_ = "starting";
  std::string last_error_;
  std::int64_t presses_ = 0;
  std::int64_t acknowledged_ = 0;
};

}  // namespace fleet
