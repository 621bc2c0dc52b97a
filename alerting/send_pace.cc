#include "alerting/send_pace.h"

#include <algorithm>

namespace fleet::alerting {

SendPace SendPace::ForChannel(std::string_view kind) {
  if (kind.ends_with("telegram")) return SendPace(20, 3000);
  if (kind.ends_with("discord")) return SendPace(5, 2000);
  return SendPace(10, 100);
}

void SendPace::Refill(std::int64_t now_ms) {
  if (!started_ || now_ms < refilled_at_) {  // first use, or a steady clock never goes back
    started_ = true;
    refilled_at_ = now_ms;
    return;
  }
  const std::int64_t earned = (now_ms - refilled_at_) / every_ms_;
  if (earned <= 0) return;
  tokens_ = static_cast<int>(std::min<std::int64_t>(burst_, tokens_ + earned));
  refilled_at_ = tokens_ == burst_ ? now_ms : refilled_at_ + earned * every_ms_;
}

std::int64_t SendPace::WaitMs(std::int64_t now_ms) {
  Refill(now_ms);
  if (tokens_ > 0) return 0;
  return refilled_at_ + every_ms_ - now_ms;
}

void SendPace::Take(std::int64_t now_ms) {
  Refill(now_ms);
  if (tokens_ > 0) --tokens_;
}

}  // namespace fleet::alerting
