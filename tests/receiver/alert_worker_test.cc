// The receiver's alert worker on a fake clock, on both stores: records stored as ingest
// stores them feed each node's rules; what it decides is read back from the alerting tables
// (the outbox rows per channel, the alert history, the answers to requests). Live incidents
// alert after `confirm` (one alert for checks failing together), late ones page nobody,
// one that closes before `confirm` is never told; a node's ack record acknowledges (the
// message edited); a silent node alerts its operator and the foundation and resolves when
// heartbeats return; reminders and escalation come at their time; acknowledgements asked
// through the requests table are applied and answered; one worker at a time (the lease).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "alerting/alert_json.h"
#include "receiver/alerts/alert_history.h"
#include "receiver/alerts/alert_leases.h"
#include "receiver/alerts/alert_outbox.h"
#include "receiver/alerts/alert_requests.h"
#include "receiver/alerts/alert_worker.h"
#include "tests/receiver/alert_world.h"

namespace fleet::receiver {
namespace {

using testing::kT0;

WorkerSettings Settings() {
  WorkerSettings s;
  s.policy.confirm = 30;
  s.policy.repeat = 1800;
  s.policy.escalate_after = 1200;
  s.silent_after = 180;
  s.telegram = true;
  s.foundation = {"foundation.telegram"};
  return s;
}

struct Message {
  std::string channel, notice, action;
  nlohmann::json alert;
};

template <typename Maker>
struct WorkerWorld : testing::AlertWorld<Maker> {
  AlertWorker worker{*this->link, "worker-a", Settings()};

  WorkerWorld() {
    this->AddNode("vps-1", "op-1");
    this->AddNode("vps-2", "op-2");
    this->Channels("op-1", "-100", "https://discord.com/api/webhooks/1/x");
  }
  WorkerStep Step(std::int64_t now) {
    auto step = worker.Step(now);
    REQUIRE_MESSAGE(step.ok(), (step ? "" : step.error()));
    CHECK(step->leader);
    return *step;
  }
  std::vector<Message> Outbox(const std::string& where = "1 = 1") {
    auto rows = this->Sql("SELECT channel, notice, action, alert_json FROM alert_outbox WHERE " +
                          where + " ORDER BY id");
    std::vector<Message> out;
    for (int i = 0; i < rows.size(); ++i) {
      out.push_back({rows.Text(i, 0), rows.Text(i, 1), rows.Text(i, 2),
                     nlohmann::json::parse(rows.Text(i, 3))});
    }
    return out;
  }
};

TEST_CASE_TEMPLATE("a live incident alerts the operator after confirm, once", Maker,
                   FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  w.Incident("vps-1", 1, "tmux", kT0, std::nullopt, kT0 + 2);
  w.Step(kT0 + 3);
  CHECK(w.Outbox().empty());  // confirm (30 s from the opening) is not over
  w.Step(kT0 + 29);
  CHECK(w.Outbox().empty());
  auto step = w.Step(kT0 + 30);
  CHECK(step.queued == 2);
  auto messages = w.Outbox();
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].channel == "op-1.telegram");
  CHECK(messages[1].channel == "op-1.discord");
  for (const auto& m : messages) {
    CHECK(m.notice == "opened");
    CHECK(m.action == "send");
    auto alert = alerting::AlertFromJson(m.alert);
    REQUIRE(alert.ok());
    CHECK(alert->node == "vps-1");
    CHECK(alert->checks.at(0).name == "tmux");
    CHECK(alert->checks.at(0).summary == "tmux is down");
    CHECK(alert->opened == kT0);
    CHECK(alert->key == "1");  // the receiver's alert number
  }
  auto entry = AlertHistory(*w.link).Find(1);
  REQUIRE(entry.ok());
  REQUIRE(entry->has_value());
  CHECK((*entry)->node == "vps-1");
  CHECK((*entry)->operator_id == "op-1");
  CHECK((*entry)->incidents == std::vector<std::int64_t>{1});
  CHECK((*entry)->opened == kT0);
  CHECK((*entry)->sent == kT0 + 30);
  CHECK((*entry)->channels == std::vector<std::string>{"op-1.telegram", "op-1.discord"});
  // Later steps send nothing more until the reminder is due.
  w.Step(kT0 + 60);
  w.Step(kT0 + 600);
  CHECK(w.Outbox().size() == 2);
}

TEST_CASE_TEMPLATE("checks failing together make one alert; recovery resolves it", Maker,
                   FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  w.Incident("vps-1", 1, "tmux", kT0, std::nullopt);
  w.Incident("vps-1", 2, "gateway", kT0 + 5, std::nullopt);
  w.Step(kT0 + 10);
  w.Step(kT0 + 31);
  auto messages = w.Outbox();
  REQUIRE(messages.size() == 2);
  auto alert = alerting::AlertFromJson(messages[0].alert);
  REQUIRE(alert.ok());
  REQUIRE(alert->checks.size() == 2);
  CHECK(alert->checks[0].name == "tmux");
  CHECK(alert->checks[1].name == "gateway");
  w.Incident("vps-1", 1, "tmux", kT0, kT0 + 100);
  w.Step(kT0 + 101);
  CHECK(w.Outbox().size() == 2);  // gateway still bad
  w.Incident("vps-1", 2, "gateway", kT0 + 5, kT0 + 120);
  w.Step(kT0 + 125);
  auto after = w.Outbox("notice = 'resolved'");
  REQUIRE(after.size() == 4);  // a new message and an edit of the first, per channel
  CHECK(after[0].action == "send");
  CHECK(after[1].action == "edit");
  auto resolved = alerting::AlertFromJson(after[0].alert);
  REQUIRE(resolved.ok());
  CHECK(resolved->state == alerting::AlertState::kResolved);
  CHECK(resolved->resolved == kT0 + 120);  // the node's time of closing
  auto entry = AlertHistory(*w.link).Find(1);
  REQUIRE(entry.ok());
  CHECK((*entry)->resolved == kT0 + 120);
  CHECK((*entry)->incidents == std::vector<std::int64_t>{1, 2});
}

TEST_CASE_TEMPLATE("a late incident pages nobody; one closed before confirm is never told", Maker,
                   FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  // Opened two hours ago, arriving now from a spool.
  w.Incident("vps-1", 1, "tmux", kT0 - 7200, std::nullopt, kT0);
  w.Step(kT0 + 1);
  w.Step(kT0 + 120);
  CHECK(w.Outbox().empty());
  // Live, but closed ten seconds later.
  w.Incident("vps-1", 2, "disk", kT0 + 200, std::nullopt);
  w.Step(kT0 + 201);
  w.Incident("vps-1", 2, "disk", kT0 + 200, kT0 + 210);
  w.Step(kT0 + 211);
  w.Step(kT0 + 300);
  CHECK(w.Outbox().empty());
  CHECK(w.Count("SELECT count(*) FROM alert_history") == 0);
}

TEST_CASE_TEMPLATE("a node's ack record acknowledges: the messages are edited, reminders stop",
                   Maker, FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  w.Incident("vps-1", 4, "gateway", kT0, std::nullopt);
  w.Step(kT0 + 30);
  REQUIRE(w.Outbox().size() == 2);
  w.Ack("vps-1", 4, kT0 + 240);
  w.Step(kT0 + 241);
  auto acked = w.Outbox("notice = 'acknowledged'");
  REQUIRE(acked.size() == 2);
  CHECK(acked[0].action == "edit");
  auto alert = alerting::AlertFromJson(acked[0].alert);
  REQUIRE(alert.ok());
  CHECK(alert->state == alerting::AlertState::kAcknowledged);
  CHECK(alert->acked_by == "ada");
  auto entry = AlertHistory(*w.link).Find(1);
  REQUIRE(entry.ok());
  REQUIRE((*entry)->ack.has_value());
  CHECK((*entry)->ack->at == kT0 + 240);
  CHECK((*entry)->ack->via == "cli");
  CHECK((*entry)->ack->source == "node");
  // No reminder, no escalation.
  w.Step(kT0 + 3 * 3600);
  CHECK(w.Outbox().size() == 4);
  // An ack record of an unknown incident changes nothing.
  w.Ack("vps-1", 99, kT0 + 3 * 3600 + 1);
  w.Step(kT0 + 3 * 3600 + 2);
  CHECK(w.Outbox().size() == 4);
}

TEST_CASE_TEMPLATE("unacknowledged: a reminder after repeat, the foundation after escalate_after",
                   Maker, FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  w.Incident("vps-1", 1, "tmux", kT0, std::nullopt);
  w.Step(kT0 + 30);
  w.Step(kT0 + 30 + 1199);
  CHECK(w.Outbox().size() == 2);
  w.Step(kT0 + 30 + 1200);
  auto escalated = w.Outbox("notice = 'escalated'");
  REQUIRE(escalated.size() == 1);
  CHECK(escalated[0].channel == "foundation.telegram");
  w.Step(kT0 + 30 + 1800);
  auto reminders = w.Outbox("notice = 'reminder'");
  REQUIRE(reminders.size() == 2);
  CHECK(reminders[0].channel == "op-1.telegram");
  // Resolved: the foundation, told by the escalation, hears of it too.
  w.Incident("vps-1", 1, "tmux", kT0, kT0 + 2000);
  w.Step(kT0 + 2001);
  auto resolved = w.Outbox("notice = 'resolved' AND channel = 'foundation.telegram'");
  CHECK(resolved.size() == 2);
}

TEST_CASE_TEMPLATE("a silent node: its operator and the foundation told, resolved when it is back",
                   Maker, FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  // vps-2 never sent a heartbeat: never silent. vps-1 did, then stopped.
  const std::int64_t minute = kT0 - 60;
  w.Beat("vps-1", minute);  // received at kT0 + 1
  w.Step(kT0 + 2);
  w.Step(kT0 + 1 + 179);
  CHECK(w.Outbox().empty());
  w.Step(kT0 + 1 + 180);
  auto opened = w.Outbox();
  REQUIRE(opened.size() == 3);
  CHECK(opened[0].channel == "op-1.telegram");
  CHECK(opened[1].channel == "op-1.discord");
  CHECK(opened[2].channel == "foundation.telegram");
  auto alert = alerting::AlertFromJson(opened[0].alert);
  REQUIRE(alert.ok());
  CHECK(alert->checks.at(0).name == "silent");
  CHECK(alert->checks.at(0).summary == "no heartbeat for 3m, the last at " + FormatUtc(kT0 + 1));
  CHECK(alert->opened == kT0 + 1);
  CHECK(w.Count("SELECT count(*) FROM alert_history WHERE silent = 1 AND node = 'vps-1'") == 1);
  // A heartbeat that comes late from a spool does not end it; a live one does.
  w.Beat("vps-1", kT0 - 600, kT0 + 300);
  w.Step(kT0 + 301);
  CHECK(w.Outbox("notice = 'resolved'").empty());
  w.Beat("vps-1", kT0 + 300, kT0 + 361);
  w.Step(kT0 + 362);
  auto resolved = w.Outbox("notice = 'resolved'");
  CHECK(resolved.size() == 6);  // send and edit on the three channels
  auto entry = AlertHistory(*w.link).Find(1);
  REQUIRE(entry.ok());
  CHECK((*entry)->silent);
  CHECK((*entry)->resolved == kT0 + 361);
  // A revoked node is not judged silent.
  w.Revoke("vps-1", kT0 + 400);
  w.Step(kT0 + 2000);
  CHECK(w.Count("SELECT count(*) FROM alert_history") == 1);
}

TEST_CASE_TEMPLATE("acknowledgements asked through the requests table are applied and answered",
                   Maker, FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  AlertRequests requests(*w.link);
  w.Incident("vps-1", 1, "tmux", kT0, std::nullopt);
  w.Step(kT0 + 30);
  auto ask = [&](std::int64_t key, std::int64_t at) {
    auto id = requests.Ask({key, "@ada", "telegram", at, std::nullopt, 7, "-100"}, at);
    REQUIRE(id.ok());
    return *id;
  };
  const std::int64_t unknown = ask(99, kT0 + 60);
  const std::int64_t first = ask(1, kT0 + 61);
  const std::int64_t second = ask(1, kT0 + 62);
  auto step = w.Step(kT0 + 63);
  CHECK(step.answered == 3);
  auto answer = [&](std::int64_t id) {
    auto a = requests.AnswerOf(id);
    REQUIRE(a.ok());
    REQUIRE(a->has_value());
    return **a;
  };
  CHECK_FALSE(answer(unknown).ok);
  CHECK(answer(unknown).text.find("no alert 99") != std::string::npos);
  CHECK(answer(first).ok);
  CHECK(answer(first).text == "Acknowledged alert 1 (tmux) on vps-1");
  CHECK_FALSE(answer(second).ok);
  CHECK(answer(second).text == "alert 1 was acknowledged already by @ada");
  auto entry = AlertHistory(*w.link).Find(1);
  REQUIRE(entry.ok());
  REQUIRE((*entry)->ack.has_value());
  CHECK((*entry)->ack->at == kT0 + 61);  // when it was pressed, the receiver's clock
  CHECK((*entry)->ack->via == "telegram");
  CHECK((*entry)->ack->source == "receiver");
  CHECK(w.Outbox("notice = 'acknowledged'").size() == 2);
  // Resolved: a later acknowledgement is refused with the reason.
  w.Incident("vps-1", 1, "tmux", kT0, kT0 + 100);
  w.Step(kT0 + 101);
  const std::int64_t late = ask(1, kT0 + 102);
  w.Step(kT0 + 103);
  CHECK(answer(late).text == "alert 1 on vps-1 is resolved already");
}

TEST_CASE_TEMPLATE("one worker at a time; another takes over when the lease runs out", Maker,
                   FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  auto other_link = w.Link();
  AlertWorker other(*other_link, "worker-b", Settings());
  w.Incident("vps-1", 1, "tmux", kT0, std::nullopt);
  w.Step(kT0 + 1);
  auto idle = other.Step(kT0 + 2);
  REQUIRE(idle.ok());
  CHECK_FALSE(idle->leader);
  // worker-a stops stepping: after the lease's 15 s worker-b takes over, with a's state.
  w.Step(kT0 + 10);
  auto took = other.Step(kT0 + 31);  // a's lease ran out at kT0 + 25
  REQUIRE_MESSAGE(took.ok(), (took ? "" : took.error()));
  CHECK(took->leader);
  CHECK(took->queued == 2);  // confirm was over: the alert goes, once
  CHECK(w.Count("SELECT count(*) FROM alert_outbox") == 2);
  // worker-a comes back: not the holder now, it does nothing, not even a second alert.
  auto back = w.worker.Step(kT0 + 20);
  REQUIRE(back.ok());
  CHECK_FALSE(back->leader);
  CHECK(w.Count("SELECT count(*) FROM alert_outbox") == 2);
  CHECK(w.Count("SELECT count(*) FROM alert_history") == 1);
}

TEST_CASE_TEMPLATE("a fresh receiver catches up on old records without paging for them", Maker,
                   FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  // Incidents that opened and closed long ago (live then), and one still open now.
  for (int i = 1; i <= 20; ++i) {
    const std::int64_t opened = kT0 - 86400 + i * 600;
    w.Incident("vps-1", i, "tmux", opened, std::nullopt);
    w.Incident("vps-1", i, "tmux", opened, opened + 120);
  }
  w.Incident("vps-1", 21, "disk", kT0 - 10, std::nullopt);
  w.Step(kT0);
  w.Step(kT0 + 30);
  auto messages = w.Outbox();
  REQUIRE(messages.size() == 2);
  auto alert = alerting::AlertFromJson(messages[0].alert);
  REQUIRE(alert.ok());
  CHECK(alert->checks.at(0).name == "disk");
}

TEST_CASE_TEMPLATE("a clock that jumps neither repeats nor loses an alert", Maker,
                   FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  w.Incident("vps-1", 1, "tmux", kT0, std::nullopt);
  w.Step(kT0 + 30);
  REQUIRE(w.Outbox().size() == 2);
  // An hour back: nothing again, and the reminder keeps its spacing from the last notice.
  w.Step(kT0 + 30 - 3600);
  w.Step(kT0 + 40 - 3600);
  CHECK(w.Outbox().size() == 2);
  CHECK(w.Outbox("notice = 'reminder'").empty());
  w.Step(kT0 + 30 - 3600 + 1800);
  CHECK(w.Outbox("notice = 'reminder'").size() == 2);
  // Forward a day: one escalation, one reminder, not one per missed period.
  w.Step(kT0 + 86400);
  CHECK(w.Outbox("notice = 'escalated'").size() == 1);
  CHECK(w.Outbox("notice = 'reminder'").size() == 4);
}

TEST_CASE_TEMPLATE("old outbox rows and answered requests are pruned; the history is kept", Maker,
                   FLEET_RECEIVER_STORES) {
  WorkerWorld<Maker> w;
  w.Incident("vps-1", 1, "tmux", kT0, std::nullopt);
  w.Step(kT0 + 30);
  REQUIRE(w.Outbox().size() == 2);
  for (std::int64_t id : {1, 2}) {
    REQUIRE(AlertOutbox(*w.link).SetAside(id, "failed", "refused", kT0 + 31).ok());
  }
  REQUIRE(AlertRequests(*w.link).Ask({1, "ada", "receiver", kT0 + 40, {}, {}, {}}, kT0 + 40).ok());
  w.Step(kT0 + 41);  // answers it
  const std::int64_t later = kT0 + kKeepOutbox + 3600;
  AlertWorker fresh(*w.link, "worker-a", Settings());  // prunes at its first step
  REQUIRE(fresh.Step(later).ok());
  CHECK(w.Count("SELECT count(*) FROM alert_outbox WHERE state = 'failed'") == 0);
  CHECK(w.Count("SELECT count(*) FROM alert_requests") == 0);
  CHECK(w.Count("SELECT count(*) FROM alert_history") == 1);
}

}  // namespace
}  // namespace fleet::receiver
