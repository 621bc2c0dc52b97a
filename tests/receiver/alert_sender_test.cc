// The receiver's outbox sender over a recording fake transport, on both stores: what the
// worker queued reaches each channel (the operator's Telegram chat and Discord webhook, the
// foundation's), an acknowledgement edits the message the channel took; a rate limit holds
// the channel as long as asked, a 5xx or garbage is retried with backoff, a refused token
// holds every message (kept) and shows in the channel's state; a channel gone from the
// registry has its messages dropped, a foundation channel this receiver lacks leaves them;
// two senders on one database send each message once; the pace holds a storm to the chat's
// per-minute limit.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "receiver/alerts/alert_outbox.h"
#include "receiver/alerts/alert_requests.h"
#include "receiver/alerts/alert_sender.h"
#include "receiver/alerts/alert_worker.h"
#include "tests/receiver/alert_world.h"
#include "tests/receiver/fake_chat_transport.h"

namespace fleet::receiver {
namespace {

using testing::FakeChatTransport;
using testing::kT0;
using json = nlohmann::json;

constexpr char kToken[] = "123456:AAF-s3cr3t";

ReceiverAlertSettings Config() {
  ReceiverAlertSettings s;
  s.telegram = TelegramBotSettings{{"/etc/token", ""}, "https://api.telegram.org", false};
  s.foundation_telegram = FoundationTelegram{"-999", {1}};
  s.policy.confirm = 30;
  return s;
}

WorkerSettings WorkerConfig(const ReceiverAlertSettings& s) {
  WorkerSettings w;
  w.policy = s.policy;
  w.telegram = s.telegram.has_value();
  w.foundation = FoundationChannelNames(s);
  return w;
}

template <typename Maker>
struct SenderWorld : testing::AlertWorld<Maker> {
  std::int64_t wall = kT0;
  std::int64_t steady = 1'000'000;
  FakeChatTransport transport;
  ReceiverAlertSettings settings = Config();
  AlertWorker worker{*this->link, "worker", WorkerConfig(settings)};
  std::unique_ptr<OutboxSender> sender = MakeSender(*this->link, "sender-a");

  SenderWorld() {
    this->AddNode("vps-1", "op-1");
    this->Channels("op-1", "-100", "https://discord.com/api/webhooks/77/h00k-s3cr3t");
  }
  std::unique_ptr<OutboxSender> MakeSender(SqlLink& on_link, const std::string& holder,
                                           FakeChatTransport* on = nullptr) {
    ReceiverAlertSecrets secrets;
    secrets.telegram_token = kToken;
    SenderClocks clocks{[this] { return wall; }, [this] { return steady; }};
    return std::make_unique<OutboxSender>(on_link, on ? *on : transport, holder, settings, secrets,
                                          clocks);
  }
  void Work() {
    auto step = worker.Step(wall);
    REQUIRE_MESSAGE(step.ok(), (step ? "" : step.error()));
  }
  // Passes until nothing more goes now.
  void Drain(OutboxSender& s) {
    for (int i = 0; i < 100; ++i) {
      auto wait = s.Pass();
      REQUIRE_MESSAGE(wait.ok(), (wait ? "" : wait.error()));
      if (wait->count() > 0) return;
    }
  }
  void Drain() { Drain(*sender); }
  void Later(std::int64_t seconds) {
    wall += seconds;
    steady += seconds * 1000;
  }
  void Alert() {  // an incident on vps-1 told after confirm
    this->Incident("vps-1", 1, "tmux", wall, std::nullopt);
    Work();
    Later(30);
    Work();
  }
  std::string Pending(const std::string& channel) {
    auto counts = AlertOutbox(*this->link).Counts();
    REQUIRE(counts.ok());
    auto it = counts->find(channel);
    return it == counts->end() ? "none"
                               : std::to_string(it->second.pending) + " pending, " +
                                     std::to_string(it->second.sent) + " sent";
  }
};

TEST_CASE_TEMPLATE("the operator's chat and webhook get the alert; an ack edits what they took",
                   Maker, FLEET_RECEIVER_STORES) {
  SenderWorld<Maker> w;
  w.Alert();
  w.Drain();
  auto sends = w.transport.Matching("/sendMessage");
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].url == std::string("https://api.telegram.org/bot") + kToken + "/sendMessage");
  const json body = json::parse(sends[0].body);
  CHECK(body["chat_id"] == -100);
  CHECK(body["text"].get<std::string>().find("CRITICAL: tmux on vps-1") != std::string::npos);
  CHECK(body["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ack:1");
  auto posts = w.transport.Matching("/api/webhooks/77/h00k-s3cr3t");
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].url.find("wait=true") != std::string::npos);
  CHECK(w.Pending("op-1.telegram") == "0 pending, 1 sent");
  CHECK(w.Pending("op-1.discord") == "0 pending, 1 sent");
  // A button press applied by the worker: both messages edited.
  REQUIRE(AlertRequests(*w.link).Ask({1, "@ada", "telegram", w.wall, {}, 7, "-100"}, w.wall).ok());
  w.Later(5);
  w.Work();
  w.Drain();
  auto edits = w.transport.Matching("/editMessageText");
  REQUIRE(edits.size() == 1);
  CHECK(json::parse(edits[0].body)["message_id"] == 1);
  auto patches = w.transport.Requests();
  CHECK(std::count_if(patches.begin(), patches.end(), [](const auto& r) {
          return r.method == "PATCH" && r.url.find("/messages/") != std::string::npos;
        }) == 1);
}

TEST_CASE_TEMPLATE("a rate limit holds the channel as asked; 5xx, garbage, a hang are retried",
                   Maker, FLEET_RECEIVER_STORES) {
  SenderWorld<Maker> w;
  w.transport.Answer(
      "/sendMessage", 429,
      R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7",)"
      R"("parameters":{"retry_after":7}})");
  w.Alert();
  w.Drain();
  CHECK(w.transport.Matching("/sendMessage").size() == 1);
  CHECK(w.Pending("op-1.telegram") == "1 pending, 0 sent");
  w.Later(6);
  w.Drain();
  CHECK(w.transport.Matching("/sendMessage").size() == 1);  // still held
  w.Later(1);
  w.transport.Answer("/sendMessage", 502, "<html>bad gateway</html>");
  w.Drain();
  CHECK(w.transport.Matching("/sendMessage").size() == 2);
  CHECK(w.Pending("op-1.telegram") == "1 pending, 0 sent");
  w.transport.Answer("/sendMessage", 200, "{\"ok\":tr");  // truncated
  w.Later(301);                                           // past any backoff
  w.Drain();
  CHECK(w.transport.Matching("/sendMessage").size() == 3);
  CHECK(w.Pending("op-1.telegram") == "1 pending, 0 sent");
  w.transport.Fail("/sendMessage", "timed out after 20 s");  // a hung API, at its deadline
  w.Later(301);
  w.Drain();
  CHECK(w.transport.Matching("/sendMessage").size() == 4);
  CHECK(w.Pending("op-1.telegram") == "1 pending, 0 sent");
  w.Later(301);
  w.Drain();
  CHECK(w.transport.Matching("/sendMessage").size() == 5);
  CHECK(w.Pending("op-1.telegram") == "0 pending, 1 sent");
}

TEST_CASE_TEMPLATE("a chat that no longer exists holds the channel; nothing lost", Maker,
                   FLEET_RECEIVER_STORES) {
  SenderWorld<Maker> w;
  w.transport.Answer(
      "/sendMessage", 400,
      R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})");
  w.Alert();
  w.Drain();
  CHECK(w.Pending("op-1.telegram") == "1 pending, 0 sent");
  w.Later(601);
  w.Drain();
  CHECK(w.Pending("op-1.telegram") == "0 pending, 1 sent");
}

TEST_CASE_TEMPLATE("a refused token holds the channel, messages kept, the state shown", Maker,
                   FLEET_RECEIVER_STORES) {
  SenderWorld<Maker> w;
  w.transport.Answer("/sendMessage", 401,
                     R"({"ok":false,"error_code":401,"description":"Unauthorized"})");
  w.Alert();
  w.Drain();
  CHECK(w.Pending("op-1.telegram") == "1 pending, 0 sent");
  auto states = AlertOutbox(*w.link).ChannelStates();
  REQUIRE(states.ok());
  bool refused = false;
  for (const auto& s : *states) {
    if (s.channel != "op-1.telegram") continue;
    refused = s.state == "refused";
    REQUIRE(s.last_error.has_value());
    CHECK(s.last_error->find(kToken) == std::string::npos);
  }
  CHECK(refused);
  w.Later(599);
  w.Drain();
  CHECK(w.transport.Matching("/sendMessage").size() == 1);
  w.Later(2);
  w.Drain();
  CHECK(w.transport.Matching("/sendMessage").size() == 2);
  CHECK(w.Pending("op-1.telegram") == "0 pending, 1 sent");
}

TEST_CASE_TEMPLATE("channels gone from the registry drop their messages; missing here, they wait",
                   Maker, FLEET_RECEIVER_STORES) {
  SenderWorld<Maker> w;
  w.Alert();
  // The operator's Discord webhook removed before anything went.
  w.Channels("op-1", "-100", std::nullopt);
  w.Later(61);  // the registry is looked at again
  w.Drain();
  CHECK(w.Pending("op-1.telegram") == "0 pending, 1 sent");
  CHECK(w.Count("SELECT count(*) FROM alert_outbox WHERE channel = 'op-1.discord' AND "
                "state = 'dropped'") == 1);
  CHECK(w.transport.Matching("/api/webhooks/").empty());
  // A foundation channel this receiver has no configuration for: left to others.
  REQUIRE(AlertOutbox(*w.link)
              .Queue({{1, "escalated", "foundation.discord", OutboxAction::kSend, R"({"bad":1})"}},
                     w.wall)
              .ok());
  w.Drain();
  CHECK(w.Pending("foundation.discord") == "1 pending, 0 sent");
}

TEST_CASE_TEMPLATE("two senders on one database send each message once", Maker,
                   FLEET_RECEIVER_STORES) {
  SenderWorld<Maker> w;
  for (int i = 1; i <= 5; ++i) {
    w.AddNode("vps-x" + std::to_string(i), "op-1");
    w.Incident("vps-x" + std::to_string(i), 1, "gateway", w.wall, std::nullopt);
  }
  w.Work();
  w.Later(30);
  w.Work();
  CHECK(w.Pending("op-1.telegram") == "5 pending, 0 sent");
  auto link_b = w.Link();
  FakeChatTransport transport_b;
  auto sender_b = w.MakeSender(*link_b, "sender-b", &transport_b);
  for (int round = 0; round < 20; ++round) {
    REQUIRE(w.sender->Pass().ok());
    REQUIRE(sender_b->Pass().ok());
    w.steady += 5000;
  }
  const std::size_t a = w.transport.Matching("/sendMessage").size();
  const std::size_t b = transport_b.Matching("/sendMessage").size();
  CHECK(a + b == 5);
  CHECK(w.Pending("op-1.telegram") == "0 pending, 5 sent");
  CHECK(w.Pending("op-1.discord") == "0 pending, 5 sent");
}

TEST_CASE_TEMPLATE("a storm keeps to the chat's per-minute limit, nothing lost", Maker,
                   FLEET_RECEIVER_STORES) {
  SenderWorld<Maker> w;
  for (int i = 1; i <= 30; ++i) {
    w.AddNode("vps-s" + std::to_string(i), "op-1");
    w.Incident("vps-s" + std::to_string(i), 1, "tmux", w.wall, std::nullopt);
  }
  w.Work();
  w.Later(30);
  w.Work();
  for (int i = 0; i < 60; ++i) {  // a minute, a pass a second
    REQUIRE(w.sender->Pass().ok());
    w.Later(1);
  }
  const std::size_t first_minute = w.transport.Matching("/sendMessage").size();
  CHECK(first_minute <= 21);  // 20 a minute to a group chat (and one as the minute turns)
  CHECK(first_minute >= 15);
  for (int i = 0; i < 180; ++i) {
    REQUIRE(w.sender->Pass().ok());
    w.Later(1);
  }
  CHECK(w.transport.Matching("/sendMessage").size() == 30);
  CHECK(w.Pending("op-1.telegram") == "0 pending, 30 sent");
}

}  // namespace
}  // namespace fleet::receiver
