// AlertRequests: acknowledgements asked for outside the alert worker (a Telegram button
// press taken by the poller, `fleet-receiver ack`), handed to the worker through the
// database, which applies them in its next step (within a second) in the transaction of that
// step, and answers each with what it did ("Acknowledged alert 17 (tmux) on vps-1") or why
// not ("alert 17 is resolved already"). The asker waits for the answer; a command that gives
// up withdraws its request first, so the worker never acts on it later. Every receiver may
// ask; only the worker answers. Uses the caller's link.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

// An acknowledgement of the receiver's alert `key`.
struct AckRequest {
  std::int64_t key = 0;
  std::string by;       // who: "@ada" (a Telegram user), a name given to `fleet-receiver ack`
  std::string via;      // "telegram" or "receiver"
  std::int64_t at = 0;  // when it was given, the receiver's clock
  std::optional<std::string> note;
  std::optional<std::int64_t> user_id;  // the Telegram user, for the ackers check
  std::optional<std::string> chat_id;   // the chat the button was pressed in
};

struct PendingRequest {
  std::int64_t id = 0;
  std::optional<AckRequest> ack;  // nullopt: a request this receiver cannot read
  std::int64_t created = 0;
};

struct RequestAnswer {
  bool ok = false;
  std::string text;
};

class AlertRequests {
 public:
  explicit AlertRequests(SqlLink& link) : link_(link) {}

  Result<std::int64_t> Ask(const AckRequest& request, std::int64_t now);
  // Unanswered, oldest first, at most 100.
  Result<std::vector<PendingRequest>> Pending();
  Outcome Answer(std::int64_t id, const RequestAnswer& answer, std::int64_t now);
  Result<std::optional<RequestAnswer>> AnswerOf(std::int64_t id);
  // true when it was still unanswered (now it never will be), false when answered meanwhile.
  Result<bool> Withdraw(std::int64_t id, std::int64_t now);
  // Answered requests older than `before` leave the table.
  Outcome Prune(std::int64_t before);

 private:
  SqlLink& link_;
};

}  // namespace fleet::receiver
