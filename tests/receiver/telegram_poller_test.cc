// The receiver's Telegram poller over a recording fake transport, on both stores: who may
// acknowledge (PressRefusal: the alert's operator's ackers or the foundation's, in one of
// their chats); an allowed press becomes an acknowledgement the worker applies (the answer
// the presser sees is the worker's), a refused one changes nothing; the poll offset is kept;
// 409, a refused token and garbage are reported and waited on; one poller per database.
#include <doctest/doctest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "receiver/alerts/alert_history.h"
#include "receiver/alerts/alert_leases.h"
#include "receiver/alerts/alert_service.h"
#include "receiver/alerts/alert_worker.h"
#include "receiver/alerts/telegram_poller.h"
#include "tests/receiver/alert_world.h"
#include "tests/receiver/fake_chat_transport.h"

namespace fleet::receiver {
namespace {

using testing::FakeChatTransport;
using testing::kT0;
using json = nlohmann::json;

constexpr char kToken[] = "123456:AAF-s3cr3t";

alerting::ButtonPress Press(std::int64_t user, const std::string& chat,
                            const std::string& data = "ack:1") {
  return {"cb-" + std::to_string(user), user, "@u" + std::to_string(user), chat, "5", data};
}

TEST_CASE("PressRefusal: the alert's operator's ackers or the foundation's, in their chats") {
  HistoryEntry alert;
  alert.key = 1;
  alert.operator_id = "op-1";
  OperatorChannelsRow op{"op-1", "-100", {7}, std::nullopt, 0};
  FoundationTelegram foundation{"-999", {1}};
  CHECK_FALSE(PressRefusal(Press(7, "-100"), alert, op, foundation));
  CHECK_FALSE(PressRefusal(Press(1, "-999"), alert, op, foundation));
  CHECK_FALSE(PressRefusal(Press(1, "-100"), alert, op, foundation));
  CHECK(PressRefusal(Press(8, "-100"), alert, op, foundation)->find("not among its ackers") !=
        std::string::npos);
  CHECK(PressRefusal(Press(7, "-555"), alert, op, foundation)->find("only in its operator") !=
        std::string::npos);
  CHECK(PressRefusal(Press(7, "-100", "something"), alert, op, foundation)
            ->find("not one of this receiver's") != std::string::npos);
  CHECK(PressRefusal(Press(7, "-100"), std::nullopt, op, foundation)->find("unknown") !=
        std::string::npos);
  // An operator without a Telegram chat: only the foundation's chat and ackers.
  CHECK(PressRefusal(Press(7, "-100"), alert, std::nullopt, foundation).has_value());
  CHECK_FALSE(PressRefusal(Press(1, "-999"), alert, std::nullopt, foundation));
  CHECK(PressRefusal(Press(1, "-999"), alert, op, std::nullopt).has_value());
}

std::string Updates(const std::vector<alerting::ButtonPress>& presses, int first_id) {
  json result = json::array();
  int id = first_id;
  for (const auto& p : presses) {
    result.push_back({{"update_id", id++},
                      {"callback_query",
                       {{"id", p.callback_query_id},
                        {"from",
                         {{"id", p.user_id},
                          {"is_bot", false},
                          {"first_name", "x"},
                          {"username", p.user_name.substr(1)}}},
                        {"message", {{"message_id", 5}, {"chat", {{"id", std::stoll(p.chat_id)}}}}},
                        {"data", p.data}}}});
  }
  return json{{"ok", true}, {"result", result}}.dump();
}

template <typename Maker>
struct PollerWorld : testing::AlertWorld<Maker> {
  FakeChatTransport transport;
  ReceiverAlertSettings settings;
  std::int64_t now = kT0;

  PollerWorld() {
    settings.telegram = TelegramBotSettings{{"/t", ""}, "https://api.telegram.org", true};
    settings.foundation_telegram = FoundationTelegram{"-999", {1}};
    settings.policy.confirm = 30;
    this->AddNode("vps-1", "op-1");
    this->Channels("op-1", "-100", std::nullopt, {7});
  }
  TelegramPresses Presses(SqlLink& on, const std::string& holder) {
    return TelegramPresses(on, transport, holder, settings, kToken);
  }
  std::vector<std::string> Answers() {
    std::vector<std::string> out;
    for (const auto& r : transport.Matching("/answerCallbackQuery")) {
      out.push_back(json::parse(r.body)["text"].get<std::string>());
    }
    return out;
  }
};

TEST_CASE_TEMPLATE("a press from an acker acknowledges through the worker; a stranger's does not",
                   Maker, FLEET_RECEIVER_STORES) {
  PollerWorld<Maker> w;
  AlertWorker worker(*w.link, "worker", WorkerSettingsOf(w.settings));
  w.Incident("vps-1", 1, "tmux", w.now, std::nullopt);
  REQUIRE(worker.Step(w.now).ok());
  REQUIRE(worker.Step(w.now + 30).ok());
  REQUIRE(w.Count("SELECT count(*) FROM alert_history") == 1);
  // The worker steps on its own link while the poller waits for its answers.
  auto worker_link = w.Link();
  AlertWorker stepping(*worker_link, "worker", WorkerSettingsOf(w.settings));
  std::atomic<bool> done{false};
  std::thread working([&] {
    while (!done) {
      auto step = stepping.Step(kT0 + 40);
      REQUIRE(step.ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  w.transport.Answer("/getUpdates", 200,
                     Updates({Press(8, "-100"), Press(7, "-100"), Press(7, "-100")}, 500));
  auto link = w.Link();
  auto presses = w.Presses(*link, "poller-a");
  auto step = presses.PollOnce(kT0 + 40, std::chrono::seconds(10));
  done = true;
  working.join();
  REQUIRE_MESSAGE(step.ok(), (step ? "" : step.error()));
  CHECK(step->polled);
  CHECK(step->presses == 3);
  auto answers = w.Answers();
  REQUIRE(answers.size() == 3);
  CHECK(answers[0].find("may not acknowledge") != std::string::npos);
  CHECK(answers[1] == "Acknowledged alert 1 (tmux) on vps-1");
  CHECK(answers[2] == "alert 1 was acknowledged already by @u7");
  auto entry = AlertHistory(*w.link).Find(1);
  REQUIRE((*entry)->ack.has_value());
  CHECK((*entry)->ack->by == "@u7");
  CHECK((*entry)->ack->via == "telegram");
  CHECK((*entry)->ack->at == kT0 + 40);
  // The offset moves past what was seen, and the next poll asks from there.
  CHECK(**AlertLeases(*w.link).Value("telegram_offset") == "503");
  w.transport.Answer("/getUpdates", 200, Updates({}, 0));
  REQUIRE(presses.PollOnce(kT0 + 41, std::chrono::milliseconds(0)).ok());
  auto polls = w.transport.Matching("/getUpdates");
  REQUIRE(polls.size() == 2);
  CHECK(json::parse(polls[1].body)["offset"] == 503);
  CHECK(json::parse(polls[1].body)["allowed_updates"] == json::array({"callback_query"}));
}

TEST_CASE_TEMPLATE("409, a refused token and garbage: reported, waited on, never a tight loop",
                   Maker, FLEET_RECEIVER_STORES) {
  PollerWorld<Maker> w;
  auto link = w.Link();
  auto presses = w.Presses(*link, "poller-a");
  w.transport.Answer("/getUpdates", 409,
                     R"({"ok":false,"error_code":409,"description":"Conflict: terminated by other )"
                     R"(getUpdates request; make sure that only one bot instance is running"})");
  auto step = presses.PollOnce(w.now, std::chrono::milliseconds(0));
  REQUIRE(step.ok());
  CHECK(step->wait == std::chrono::seconds(60));
  auto state = json::parse(**AlertLeases(*w.link).Value("telegram_poller_state"));
  CHECK(state["state"] == "conflict");
  CHECK(state["error"].get<std::string>().find(kToken) == std::string::npos);
  w.transport.Answer("/getUpdates", 401,
                     R"({"ok":false,"error_code":401,"description":"Unauthorized"})");
  step = presses.PollOnce(w.now + 60, std::chrono::milliseconds(0));
  CHECK(step->wait == std::chrono::minutes(10));
  CHECK(json::parse(**AlertLeases(*w.link).Value("telegram_poller_state"))["state"] == "refused");
  w.transport.Answer("/getUpdates", 200, "{\"ok\":true,\"result\":[{\"update_id\":");
  step = presses.PollOnce(w.now + 700, std::chrono::milliseconds(0));
  CHECK(step->wait <= std::chrono::seconds(1));
  CHECK(json::parse(**AlertLeases(*w.link).Value("telegram_poller_state"))["state"] == "retrying");
  CHECK_FALSE(AlertLeases(*w.link).Value("telegram_offset")->has_value());
}

TEST_CASE_TEMPLATE("one poller per database; another takes over when it stops", Maker,
                   FLEET_RECEIVER_STORES) {
  PollerWorld<Maker> w;
  auto link_a = w.Link(), link_b = w.Link();
  auto a = w.Presses(*link_a, "poller-a");
  auto b = w.Presses(*link_b, "poller-b");
  w.transport.Answer("/getUpdates", 200, Updates({}, 0));
  CHECK(a.PollOnce(w.now, std::chrono::milliseconds(0))->polled);
  auto standby = b.PollOnce(w.now + 1, std::chrono::milliseconds(0));
  CHECK_FALSE(standby->polled);
  CHECK(w.transport.Matching("/getUpdates").size() == 1);
  REQUIRE(a.Resign().ok());
  w.transport.Answer("/getUpdates", 200, Updates({}, 0));
  CHECK(b.PollOnce(w.now + 2, std::chrono::milliseconds(0))->polled);
}

}  // namespace
}  // namespace fleet::receiver
