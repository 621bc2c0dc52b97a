// SendPace: how fast one channel may be sent to, as a token bucket on a steady clock in
// milliseconds: `burst` messages at once, then one every `every`. The chat services'
// documented limits: a Telegram bot may send about one message a second to a chat and 20
// a minute to a group (burst 20, one per 3 s); a Discord webhook takes 5 requests per 2 s
// and 30 a minute (burst 5, one per 2 s). Keeping under them means a storm of alerts queues
// in the outbox instead of being refused with 429s. Pure.
#pragma once

#include <cstdint>
#include <string_view>

namespace fleet::alerting {

class SendPace {
 public:
  SendPace(int burst, std::int64_t every_ms) : burst_(burst), every_ms_(every_ms), tokens_(burst) {}
  // The pace of a channel kind ("telegram", "discord", anything else: a webhook).
  static SendPace ForChannel(std::string_view kind);

  // Milliseconds until a message may go (0: now).
  std::int64_t WaitMs(std::int64_t now_ms);
  // A message went at now_ms.
  void Take(std::int64_t now_ms);

 private:
  void Refill(std::int64_t now_ms);

  int burst_;
  std::int64_t every_ms_;
  int tokens_;
  std::int64_t refilled_at_ = 0;
  bool started_ = false;
};

}  // namespace fleet::alerting
