#include "agent/alerts/alerter.h"

#include <doctest/doctest.h>

#include "alerting/alert_json.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using fleet::testing::TempDir;

namespace {

constexpr std::int64_t kT0 = 1'800'000'000;

AlertSettings TwoChannels() {
  AlertSettings settings;
  settings.channels.telegram = TelegramSettings{};
  settings.channels.webhook = WebhookSettings{};
  return settings;
}

std::unique_ptr<Alerter> OpenAlerter(const TempDir& dir, const AlertSettings& settings) {
  auto ledger = AlertLedger::Open(dir.path(), false);
  REQUIRE(ledger);
  auto alerter = Alerter::Open(std::move(ledger).value(), "vps-1", settings);
  REQUIRE(alerter);
  return std::move(alerter).value();
}

CheckResult Seen(const std::string& name, Status status) {
  return MakeResult(name, status, name + " says " + std::string(StatusName(status)));
}

// Every waiting row of a channel, oldest first, marked sent as it is read.
std::vector<OutboxRow> Drain(AlertLedger& ledger, const std::string& channel, std::int64_t now) {
  std::vector<OutboxRow> rows;
  for (;;) {
    auto row = ledger.NextDue(channel, now);
    REQUIRE(row);
    if (!*row) break;
    rows.push_back(**row);
    REQUIRE(ledger.MarkSent(**row, "m" + std::to_string((*row)->id), now));
  }
  return rows;
}

}  // namespace

TEST_CASE("an incident's alert queues one message per channel, saved with the rules' state") {
  TempDir dir;
  auto alerter = OpenAlerter(dir, TwoChannels());
  auto queued = alerter->Observe(Seen("gateway", Status::kCritical), kT0);
  REQUIRE(queued);
  CHECK(!*queued);  // not confirmed yet
  queued = alerter->Tick(kT0 + 30);
  REQUIRE(queued);
  CHECK(*queued);
  auto telegram = Drain(alerter->ledger(), "telegram", kT0 + 30);
  REQUIRE(telegram.size() == 1);
  CHECK(telegram[0].notice == "opened");
  CHECK(telegram[0].action == OutboxAction::kSend);
  auto alert = alerting::AlertFromJson(nlohmann::json::parse(telegram[0].alert_json));
  REQUIRE(alert);
  CHECK(alert->node == "vps-1");
  CHECK(alert->checks.at(0).name == "gateway");
  CHECK(alert->checks.at(0).fix.find("systemctl restart hermes-gateway") != std::string::npos);
  CHECK(Drain(alerter->ledger(), "webhook", kT0 + 30).size() == 1);
  CHECK(Drain(alerter->ledger(), "discord", kT0 + 30).empty());  // not configured

  // A restart (a new Alerter on the same file) goes on where the rules were: no second
  // opening, the reminder at its time.
  alerter.reset();
  auto again = OpenAlerter(dir, TwoChannels());
  CHECK(again->load_warning().empty());
  REQUIRE(again->Observe(Seen("gateway", Status::kCritical), kT0 + 60));
  CHECK(Drain(again->ledger(), "telegram", kT0 + 60).empty());
  REQUIRE(again->Tick(kT0 + 30 + 1800));
  auto reminder = Drain(again->ledger(), "telegram", kT0 + 30 + 1800);
  REQUIRE(reminder.size() == 1);
  CHECK(reminder[0].notice == "reminder");
}

TEST_CASE("acknowledgement edits the first message; recovery sends and edits; webhook posts") {
  TempDir dir;
  auto alerter = OpenAlerter(dir, TwoChannels());
  REQUIRE(alerter->Observe(Seen("tmux", Status::kCritical), kT0));
  REQUIRE(alerter->Tick(kT0 + 30));
  const auto opened = Drain(alerter->ledger(), "telegram", kT0 + 30);
  REQUIRE(opened.size() == 1);
  Drain(alerter->ledger(), "webhook", kT0 + 30);
  auto first = alerter->ledger().FirstMessage(opened[0].alert, "telegram");
  REQUIRE(first);
  CHECK(*first == std::optional<std::string>("m" + std::to_string(opened[0].id)));

  auto acked = alerter->Acknowledge(opened[0].alert, {"alice", "cli", kT0 + 40, "on it"}, kT0 + 40);
  REQUIRE(acked);
  CHECK(acked->result == alerting::AckResult::kAcknowledged);
  CHECK(acked->checks == std::vector<std::string>{"tmux"});
  auto edits = Drain(alerter->ledger(), "telegram", kT0 + 40);
  REQUIRE(edits.size() == 1);
  CHECK(edits[0].action == OutboxAction::kEdit);
  CHECK(edits[0].notice == "acknowledged");
  auto hook = Drain(alerter->ledger(), "webhook", kT0 + 40);
  REQUIRE(hook.size() == 1);
  CHECK(hook[0].action == OutboxAction::kSend);

  auto twice = alerter->Acknowledge(opened[0].alert, {"bob", "telegram", kT0 + 41, {}}, kT0 + 41);
  REQUIRE(twice);
  CHECK(twice->result == alerting::AckResult::kAlreadyAcknowledged);

  REQUIRE(alerter->Observe(Seen("tmux", Status::kOk), kT0 + 100));
  auto resolved = Drain(alerter->ledger(), "telegram", kT0 + 100);
  REQUIRE(resolved.size() == 2);
  CHECK(resolved[0].action == OutboxAction::kSend);
  CHECK(resolved[1].action == OutboxAction::kEdit);
  auto alert = alerting::AlertFromJson(nlohmann::json::parse(resolved[0].alert_json));
  REQUIRE(alert);
  CHECK(alert->state == alerting::AlertState::kResolved);
  CHECK(*alert->resolved - alert->opened == 100);
  CHECK(alert->acked_by == "alice");
}

TEST_CASE("escalation goes to the escalation channels only") {
  TempDir dir;
  AlertSettings settings = TwoChannels();
  settings.escalation.discord = DiscordSettings{};
  settings.escalate_after = std::chrono::seconds(1200);
  auto alerter = OpenAlerter(dir, settings);
  REQUIRE(alerter->Observe(Seen("gateway", Status::kCritical), kT0));
  REQUIRE(alerter->Tick(kT0 + 30));
  CHECK(Drain(alerter->ledger(), "escalation.discord", kT0 + 30).empty());
  REQUIRE(alerter->Tick(kT0 + 1230));
  auto escalated = Drain(alerter->ledger(), "escalation.discord", kT0 + 1230);
  REQUIRE(escalated.size() == 1);
  auto alert = alerting::AlertFromJson(nlohmann::json::parse(escalated[0].alert_json));
  REQUIRE(alert);
  CHECK(alert->escalation);
}

TEST_CASE("the outbox: in order per channel, held, failed, bounded, dropped when unrouted") {
  TempDir dir;
  auto ledger = AlertLedger::Open(dir.path(), false);
  REQUIRE(ledger);
  AlertLedger& l = **ledger;
  const nlohmann::json book = {{"v", 1}};
  std::vector<QueuedMessage> two = {{1, "opened", "telegram", OutboxAction::kSend, {}},
                                    {2, "opened", "telegram", OutboxAction::kSend, {}}};
  REQUIRE(l.Record(book, two, kT0));
  auto first = l.NextDue("telegram", kT0);
  REQUIRE(first);
  REQUIRE(*first);
  CHECK((*first)->alert == 1);
  REQUIRE(l.Reschedule((*first)->id, kT0 + 10, "HTTP 500"));
  // The first waits, and the second does not overtake it.
  auto none = l.NextDue("telegram", kT0 + 5);
  REQUIRE(none);
  CHECK(!*none);
  REQUIRE(l.HoldChannel("telegram", kT0 + 60, "rate limited"));
  auto held = l.NextDue("telegram", kT0 + 30);
  REQUIRE(held);
  CHECK(!*held);
  // A clock gone back by a day: the held message is due, not a day away.
  auto jumped = l.NextDue("telegram", kT0 + 30 - 86400);
  REQUIRE(jumped);
  CHECK(*jumped);
  auto due = l.NextDue("telegram", kT0 + 60);
  REQUIRE(due);
  REQUIRE(*due);
  CHECK((*due)->attempts == 1);
  REQUIRE(l.MarkFailed((*due)->id, "HTTP 403", kT0 + 60));
  auto counts = l.Counts();
  REQUIRE(counts);
  CHECK(counts->at("telegram").pending == 1);
  CHECK(counts->at("telegram").failed == 1);

  std::vector<QueuedMessage> many;
  for (int i = 0; i < kMaxPendingMessages + 5; ++i) {
    many.push_back({3, i < 10 ? "reminder" : "opened", "discord", OutboxAction::kSend, {}});
  }
  REQUIRE(l.Record(book, many, kT0 + 70));
  counts = l.Counts();
  REQUIRE(counts);
  CHECK(counts->at("discord").pending + counts->at("telegram").pending == kMaxPendingMessages);
  CHECK(counts->at("discord").dropped == 6);
  auto next = l.NextDue("discord", kT0 + 70);
  REQUIRE(next);
  REQUIRE(*next);
  CHECK((*next)->notice == "reminder");  // reminders went first, but not all were needed

  auto dropped = l.DropUnrouted({"telegram"}, kT0 + 80);
  REQUIRE(dropped);
  CHECK(*dropped == kMaxPendingMessages - 1);
  REQUIRE(l.Prune(kT0 + 81));
  counts = l.Counts();
  REQUIRE(counts);
  CHECK(counts->count("discord") == 0);
  CHECK(counts->at("telegram").pending == 1);
}

TEST_CASE("the inbox carries a command's request to the daemon and its answer back") {
  TempDir dir;
  auto daemon = AlertLedger::Open(dir.path(), false);
  REQUIRE(daemon);
  auto command = AlertLedger::Open(dir.path(), false);
  REQUIRE(command);
  auto id = (*command)->Request("ack", {{"incident", 3}}, kT0);
  REQUIRE(id);
  auto pending = (*daemon)->PendingRequests();
  REQUIRE(pending);
  REQUIRE(pending->size() == 1);
  CHECK(pending->at(0).payload["incident"] == 3);
  auto unanswered = (*command)->AnswerOf(*id);
  REQUIRE(unanswered);
  CHECK(!*unanswered);
  REQUIRE((*daemon)->Answer(*id, {false, "incident 3 is closed"}, kT0 + 1));
  auto answer = (*command)->AnswerOf(*id);
  REQUIRE(answer);
  REQUIRE(*answer);
  CHECK(!(*answer)->ok);
  CHECK((*answer)->text == "incident 3 is closed");
  auto left = (*daemon)->PendingRequests();
  REQUIRE(left);
  CHECK(left->empty());
}

TEST_CASE("a saved state that cannot be read starts afresh and says why") {
  TempDir dir;
  {
    auto ledger = AlertLedger::Open(dir.path(), false);
    REQUIRE(ledger);
    REQUIRE((*ledger)->SetValue("book", "{\"v\": 1, \"next_id\": \"x\"}"));
  }
  auto alerter = OpenAlerter(dir, TwoChannels());
  CHECK(alerter->load_warning().find("saved alert state") != std::string::npos);
  REQUIRE(alerter->Observe(Seen("gateway", Status::kCritical), kT0));
  auto queued = alerter->Tick(kT0 + 30);
  REQUIRE(queued);
  CHECK(*queued);
}

TEST_CASE("a read-only ledger on a history without alert tables reads as empty") {
  TempDir dir;
  {
    auto made = SqliteDb::Open(dir.Path("history.db"), SqliteDb::Mode::kReadWrite);
    REQUIRE(made);
  }
  auto ledger = AlertLedger::Open(dir.path(), true);
  REQUIRE(ledger);
  auto book = (*ledger)->LoadBook();
  REQUIRE(book);
  CHECK(!*book);
  auto counts = (*ledger)->Counts();
  REQUIRE(counts);
  CHECK(counts->empty());
}
