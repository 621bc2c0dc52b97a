// 10,000 incidents opening at once, on both stores: 1,000 nodes of 100 operators, ten
// failing checks each. The worker makes one alert per node (the checks grouped), the sender
// delivers each message once under the bot's pace, nothing lost; and when one operator's
// chat gets more than the outbox holds for a channel, the bound drops the oldest and says
// how many, the rest going at the chat's per-minute pace.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "receiver/alerts/alert_outbox.h"
#include "receiver/alerts/alert_sender.h"
#include "receiver/alerts/alert_service.h"
#include "receiver/alerts/alert_worker.h"
#include "tests/receiver/alert_world.h"
#include "tests/receiver/fake_chat_transport.h"

namespace fleet::receiver {
namespace {

using testing::FakeChatTransport;
using testing::kT0;

ReceiverAlertSettings Config() {
  ReceiverAlertSettings s;
  s.telegram = TelegramBotSettings{{"/t", ""}, "https://api.telegram.org", false};
  s.policy.confirm = 30;
  return s;
}

std::string Name(const char* prefix, int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%04d", prefix, i);
  return buf;
}

TEST_CASE_TEMPLATE("10,000 incidents at once: one alert per node, each message once, paced", Maker,
                   FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  constexpr int kNodes = 1000, kChecks = 10, kPerOperator = 10;
  for (int op = 0; op < kNodes / kPerOperator; ++op) {
    w.Channels(Name("op-", op), "-" + std::to_string(1000 + op), std::nullopt);
  }
  w.BeginBatch();
  for (int n = 0; n < kNodes; ++n) {
    w.AddNode(Name("vps-", n), Name("op-", n / kPerOperator));
    for (int c = 0; c < kChecks; ++c) {
      w.Incident(Name("vps-", n), c + 1, "check" + std::to_string(c), kT0, std::nullopt);
    }
  }
  w.CommitBatch();
  const ReceiverAlertSettings settings = Config();
  AlertWorker worker(*w.link, "worker", WorkerSettingsOf(settings));
  const auto started = std::chrono::steady_clock::now();
  auto first = worker.Step(kT0 + 1);
  REQUIRE_MESSAGE(first.ok(), (first ? "" : first.error()));
  auto told = worker.Step(kT0 + 31);
  REQUIRE_MESSAGE(told.ok(), (told ? "" : told.error()));
  MESSAGE("the worker took ",
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                started)
              .count(),
          " ms for 10,000 incidents");
  CHECK(told->queued == kNodes);
  CHECK(told->dropped == 0);
  CHECK(w.Count("SELECT count(*) FROM alert_history") == kNodes);
  CHECK(w.Count("SELECT max(n) FROM (SELECT count(*) AS n FROM alert_outbox "
                "WHERE state = 'pending' GROUP BY channel) AS c") == kPerOperator);
  auto alert =
      nlohmann::json::parse(w.Sql("SELECT alert_json FROM alert_outbox LIMIT 1").Text(0, 0));
  CHECK(alert["checks"].size() == kChecks);

  FakeChatTransport transport;
  std::int64_t wall = kT0 + 31, steady = 1'000'000;
  ReceiverAlertSecrets secrets;
  secrets.telegram_token = "1:x";
  OutboxSender sender(*w.link, transport, "sender", settings, secrets,
                      {[&] { return wall; }, [&] { return steady; }});
  std::size_t most_in_a_second = 0, before = 0;
  for (int second = 0; second < 120 && w.Count("SELECT count(*) FROM alert_outbox WHERE "
                                               "state = 'pending'") > 0;
       ++second) {
    for (int pass = 0; pass < 30; ++pass) REQUIRE(sender.Pass().ok());
    const std::size_t now_sent = transport.Matching("/sendMessage").size();
    most_in_a_second = std::max(most_in_a_second, now_sent - before);
    before = now_sent;
    ++wall;
    steady += 1000;
  }
  CHECK(transport.Matching("/sendMessage").size() == kNodes);
  CHECK(w.Count("SELECT count(*) FROM alert_outbox WHERE state = 'sent'") == kNodes);
  CHECK(most_in_a_second <= 26);  // the bot's pace: about 25 a second across chats
}

TEST_CASE_TEMPLATE("one chat told of more alerts than the outbox holds: bounded, said, paced",
                   Maker, FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  constexpr int kNodes = 1100;
  w.Channels("op-big", "-100", std::nullopt);
  w.BeginBatch();
  for (int n = 0; n < kNodes; ++n) {
    w.AddNode(Name("big-", n), "op-big");
    w.Incident(Name("big-", n), 1, "tmux", kT0, std::nullopt);
  }
  w.CommitBatch();
  const ReceiverAlertSettings settings = Config();
  AlertWorker worker(*w.link, "worker", WorkerSettingsOf(settings));
  REQUIRE(worker.Step(kT0 + 1).ok());
  auto told = worker.Step(kT0 + 31);
  REQUIRE(told.ok());
  CHECK(told->queued == kNodes);
  CHECK(told->dropped == kNodes - kMaxPendingPerChannel);
  CHECK(w.Count("SELECT count(*) FROM alert_outbox WHERE state = 'pending'") ==
        kMaxPendingPerChannel);
  CHECK(w.Count("SELECT count(*) FROM alert_outbox WHERE state = 'dropped' AND "
                "last_error = 'the outbox was full'") == kNodes - kMaxPendingPerChannel);
  // Every alert is in the history (the statement counts it), dropped message or not.
  CHECK(w.Count("SELECT count(*) FROM alert_history") == kNodes);
}

}  // namespace
}  // namespace fleet::receiver
