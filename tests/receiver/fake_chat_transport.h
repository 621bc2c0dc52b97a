// A chat transport for the receiver's alerting tests: records every exchange and answers
// like the chat APIs do (Telegram: ok with a message numbered from 1; Discord: a message id;
// a webhook: 204), unless a canned answer was queued for URLs containing a given text
// (a status and body, or no answer at all). Thread-safe (a poller and a sender may share it
// in a test).
#pragma once

#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alerting/chat_transport.h"

namespace fleet::receiver::testing {

class FakeChatTransport final : public alerting::ChatTransport {
 public:
  struct Canned {
    std::string match;
    Result<alerting::ChatReply> reply;
  };

  Result<alerting::ChatReply> Exchange(const alerting::ChatRequest& request) override {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    for (auto it = canned_.begin(); it != canned_.end(); ++it) {
      if (request.url.find(it->match) == std::string::npos) continue;
      Result<alerting::ChatReply> reply = std::move(it->reply);
      canned_.erase(it);
      return reply;
    }
    alerting::ChatReply reply;
    reply.status = 200;
    if (request.url.find("/bot") != std::string::npos) {
      reply.body =
          nlohmann::json{
              {"ok", true},
              {"result",
               {{"message_id", next_message_++}, {"chat", {{"id", -100}}}, {"text", "x"}}}}
              .dump();
    } else if (request.url.find("/api/webhooks/") != std::string::npos) {
      reply.body = nlohmann::json{{"id", std::to_string(9000 + next_discord_++)}}.dump();
    } else {
      reply.status = 204;
    }
    return reply;
  }

  void Answer(std::string match, long status, std::string body) {
    alerting::ChatReply reply;
    reply.status = status;
    reply.body = std::move(body);
    std::lock_guard lock(mutex_);
    canned_.push_back({std::move(match), std::move(reply)});
  }
  void Fail(std::string match, std::string error) {
    std::lock_guard lock(mutex_);
    canned_.push_back({std::move(match), Error{std::move(error)}});
  }
  std::vector<alerting::ChatRequest> Requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<alerting::ChatRequest> Matching(const std::string& text) {
    std::vector<alerting::ChatRequest> out;
    for (auto& r : Requests()) {
      if (r.url.find(text) != std::string::npos) out.push_back(r);
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<alerting::ChatRequest> requests_;
  std::deque<Canned> canned_;
  int next_message_ = 1;
  int next_discord_ = 1;
};

}  // namespace fleet::receiver::testing
