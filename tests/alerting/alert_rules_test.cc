#include "alerting/alert_rules.h"

#include <doctest/doctest.h>

using namespace fleet::alerting;

namespace {

constexpr std::int64_t kT0 = 1'800'000'000;  // any wall time

// A book on a fake clock that collects the notices it makes.
struct Fixture {
  AlertBook book{AlertPolicy{}};
  std::int64_t now = kT0;
  std::vector<Notice> out;

  explicit Fixture(AlertPolicy policy = {}) : book(policy) {}
  std::vector<Notice> Take() { return std::exchange(out, {}); }
  void Set(const std::string& check, Level level, std::int64_t at) {
    now = kT0 + at;
    book.Observe(check, level, check + " is " + std::to_string(static_cast<int>(level)),
                 "fix " + check, now, out);
  }
  void TickAt(std::int64_t at) {
    now = kT0 + at;
    book.Tick(now, out);
  }
};

std::vector<Notice> Notices(std::initializer_list<std::pair<NoticeKind, std::int64_t>> list) {
  std::vector<Notice> notices;
  for (auto [kind, alert] : list) notices.push_back({kind, alert});
  return notices;
}

}  // namespace

TEST_CASE("a check must stay bad for `confirm` before anyone is told") {
  Fixture f;
  f.Set("gateway", Level::kCritical, 0);
  CHECK(f.Take().empty());
  CHECK(f.book.NextWake() == kT0 + 30);
  f.Set("gateway", Level::kCritical, 29);
  f.TickAt(29);
  CHECK(f.Take().empty());
  f.TickAt(30);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 1}}));
  const BookAlert* alert = f.book.Find(1);
  REQUIRE(alert != nullptr);
  CHECK(alert->opened == kT0);
  CHECK(alert->notified == kT0 + 30);
  CHECK(alert->checks.at(0).summary == "gateway is 2");
  CHECK(alert->checks.at(0).fix == "fix gateway");
}

TEST_CASE("a problem gone before `confirm` is never told, not even resolved") {
  Fixture f;
  f.Set("tmux", Level::kCritical, 0);
  f.Set("tmux", Level::kOk, 20);
  f.TickAt(31);
  f.TickAt(100000);
  CHECK(f.Take().empty());
  CHECK(f.book.alerts().empty());
  CHECK(!f.book.NextWake());
}

TEST_CASE("checks failing together make one alert; a later one makes its own") {
  Fixture f;
  f.Set("gateway", Level::kCritical, 0);
  f.Set("tmux", Level::kCritical, 5);
  f.TickAt(30);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 1}}));
  const BookAlert* alert = f.book.Find(1);
  REQUIRE(alert != nullptr);
  REQUIRE(alert->checks.size() == 2);
  CHECK(alert->checks[0].name == "gateway");  // the one that opened it first
  CHECK(alert->checks[1].name == "tmux");
  f.Set("disk", Level::kCritical, 60);
  f.TickAt(90);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 2}}));
  // The alert resolves only when all its checks are fine.
  f.Set("gateway", Level::kOk, 100);
  CHECK(f.Take().empty());
  f.Set("tmux", Level::kOk, 110);
  CHECK(f.Take() == Notices({{NoticeKind::kResolved, 1}}));
  REQUIRE(f.book.just_resolved().count(1) == 1);
  const Alert rendered =
      AlertBook::Render(f.book.just_resolved().at(1), "vps-1", NoticeKind::kResolved, f.now);
  CHECK(rendered.state == AlertState::kResolved);
  CHECK(*rendered.resolved - rendered.opened == 110);
  CHECK(f.book.Find(2) != nullptr);
}

TEST_CASE("reminders every `repeat` while open and unacknowledged; escalation once") {
  AlertPolicy policy;
  policy.escalate_after = 1200;
  Fixture f(policy);
  f.Set("gateway", Level::kCritical, 0);
  f.TickAt(30);
  f.Take();
  CHECK(f.book.NextWake() == kT0 + 30 + 1200);
  f.TickAt(1229);
  CHECK(f.Take().empty());
  f.TickAt(1230);
  CHECK(f.Take() == Notices({{NoticeKind::kEscalated, 1}}));
  f.TickAt(1829);
  CHECK(f.Take().empty());
  f.TickAt(1830);
  CHECK(f.Take() == Notices({{NoticeKind::kReminder, 1}}));
  f.TickAt(3630);
  CHECK(f.Take() == Notices({{NoticeKind::kReminder, 1}}));
  f.TickAt(3631);
  CHECK(f.Take().empty());
}

TEST_CASE("repeat 0 means no reminders") {
  AlertPolicy policy;
  policy.repeat = 0;
  Fixture f(policy);
  f.Set("gateway", Level::kCritical, 0);
  f.TickAt(30);
  f.Take();
  f.TickAt(100000);
  CHECK(f.Take().empty());
  CHECK(!f.book.NextWake());
}

TEST_CASE("an acknowledgement is sticky until the check is fine, and stops reminders") {
  AlertPolicy policy;
  policy.escalate_after = 1200;
  Fixture f(policy);
  f.Set("gateway", Level::kCritical, 0);
  f.TickAt(30);
  f.Take();
  Acknowledgement ack{"alice", "telegram", kT0 + 100, std::string("on it")};
  CHECK(f.book.Acknowledge(1, ack, f.out) == AckResult::kAcknowledged);
  CHECK(f.Take() == Notices({{NoticeKind::kAcknowledged, 1}}));
  CHECK(f.book.Acknowledge(1, ack, f.out) == AckResult::kAlreadyAcknowledged);
  CHECK(f.book.Acknowledge(99, ack, f.out) == AckResult::kUnknownAlert);
  CHECK(f.Take().empty());
  f.TickAt(10000);  // no reminder, no escalation
  CHECK(f.Take().empty());
  const Alert rendered = AlertBook::Render(*f.book.Find(1), "vps-1", NoticeKind::kAcknowledged);
  CHECK(rendered.state == AlertState::kAcknowledged);
  CHECK(rendered.acked_by == "alice");
  CHECK(rendered.ack_note == "on it");
  f.Set("gateway", Level::kOk, 10001);
  CHECK(f.Take() == Notices({{NoticeKind::kResolved, 1}}));
  // It fails again: a new alert, not acknowledged.
  f.Set("gateway", Level::kCritical, 10100);
  f.TickAt(10130);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 2}}));
  CHECK(!f.book.Find(2)->ack);
}

TEST_CASE("UNKNOWN neither opens nor closes") {
  Fixture f;
  f.Set("gateway", Level::kCritical, 0);
  f.Set("gateway", Level::kUnknown, 10);
  f.TickAt(30);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 1}}));
  f.Set("gateway", Level::kUnknown, 40);
  CHECK(f.Take().empty());
  CHECK(f.book.Find(1) != nullptr);
  // And an unknown check never opens one.
  f.Set("cron", Level::kUnknown, 50);
  f.TickAt(5000);
  for (const Notice& n : f.Take()) CHECK(n.alert == 1);
}

TEST_CASE("warnings count only with min_severity warning; one turning critical is told again") {
  Fixture critical_only;
  critical_only.Set("disk", Level::kWarning, 0);
  critical_only.TickAt(1000);
  CHECK(critical_only.Take().empty());

  AlertPolicy policy;
  policy.min_severity = Severity::kWarning;
  Fixture f(policy);
  f.Set("disk", Level::kWarning, 0);
  f.TickAt(30);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 1}}));
  CHECK(f.book.Find(1)->severity == Severity::kWarning);
  f.Set("disk", Level::kCritical, 60);
  CHECK(f.Take() == Notices({{NoticeKind::kReminder, 1}}));
  CHECK(f.book.Find(1)->severity == Severity::kCritical);
}

TEST_CASE("a critical check that drops to warning resolves under min_severity critical") {
  Fixture f;
  f.Set("disk", Level::kCritical, 0);
  f.TickAt(30);
  f.Take();
  f.Set("disk", Level::kWarning, 40);
  CHECK(f.Take() == Notices({{NoticeKind::kResolved, 1}}));
}

TEST_CASE("flapping: one notice, quiet while it flaps, then resolved or firing once stable") {
  Fixture f;                           // 6 changes within 30 min; stable after 7.5 min
  f.Set("tmux", Level::kCritical, 0);  // change 1
  f.Set("tmux", Level::kOk, 10);       // 2
  f.Set("tmux", Level::kCritical, 20);
  f.Set("tmux", Level::kOk, 30);
  f.Set("tmux", Level::kCritical, 40);
  CHECK(f.Take().empty());
  f.Set("tmux", Level::kOk, 50);  // change 6: flapping
  CHECK(f.Take() == Notices({{NoticeKind::kFlapping, 1}}));
  for (int t = 60; t < 400; t += 10) f.Set("tmux", t % 20 ? Level::kCritical : Level::kOk, t);
  f.TickAt(400);
  CHECK(f.Take().empty());  // no message per change
  f.Set("tmux", Level::kOk, 400);
  f.TickAt(400 + 449);
  CHECK(f.Take().empty());
  CHECK(f.book.NextWake() == kT0 + 400 + 450);
  f.TickAt(400 + 450);
  CHECK(f.Take() == Notices({{NoticeKind::kResolved, 1}}));

  Fixture g;
  for (int t = 0; t < 60; t += 10) g.Set("tmux", t % 20 ? Level::kOk : Level::kCritical, t);
  g.Set("tmux", Level::kCritical, 60);
  g.Take();
  g.TickAt(60 + 450);
  CHECK(g.Take() == Notices({{NoticeKind::kReminder, 1}}));  // settled, still failing
  CHECK(!g.book.Find(1)->flapping);
}

TEST_CASE("maintenance holds alerts back and sends them when it ends, if still bad") {
  Fixture f;
  f.book.SetMaintenance(kT0 + 3600);
  f.Set("gateway", Level::kCritical, 0);
  f.TickAt(30);
  f.TickAt(1800);
  CHECK(f.Take().empty());
  CHECK(f.book.Find(1) != nullptr);
  f.TickAt(3600);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 1}}));
  // Held back and gone before the end: nothing at all.
  Fixture g;
  g.book.SetMaintenance(kT0 + 3600);
  g.Set("gateway", Level::kCritical, 0);
  g.TickAt(30);
  g.Set("gateway", Level::kOk, 60);
  g.TickAt(3600);
  CHECK(g.Take().empty());
}

TEST_CASE("an alert sent before maintenance still resolves during it, without reminders") {
  Fixture f;
  f.Set("gateway", Level::kCritical, 0);
  f.TickAt(30);
  f.Take();
  f.book.SetMaintenance(kT0 + 10000);
  f.TickAt(5000);
  CHECK(f.Take().empty());
  f.Set("gateway", Level::kOk, 5001);
  CHECK(f.Take() == Notices({{NoticeKind::kResolved, 1}}));
}

TEST_CASE("a clock jumping back keeps the confirm and repeat spacing") {
  Fixture f;
  f.Set("gateway", Level::kCritical, 0);
  f.TickAt(20);
  f.TickAt(20 - 3600);  // an hour back
  CHECK(f.Take().empty());
  f.TickAt(30 - 3600);  // 10 s later on the new clock: confirmed
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 1}}));
  f.TickAt(30 - 3600 + 1800);
  CHECK(f.Take() == Notices({{NoticeKind::kReminder, 1}}));
}

TEST_CASE("a removed check leaves its alert as if it were fine") {
  Fixture f;
  f.Set("dispatch", Level::kCritical, 0);
  f.TickAt(30);
  f.Take();
  f.book.Forget("dispatch", kT0 + 40, f.out);
  CHECK(f.Take() == Notices({{NoticeKind::kResolved, 1}}));
}

TEST_CASE("the state saves and loads whole; a broken save is refused, not thrown") {
  AlertPolicy policy;
  policy.escalate_after = 600;
  Fixture f(policy);
  f.Set("gateway", Level::kCritical, 0);
  f.Set("tmux", Level::kCritical, 3);
  f.TickAt(30);
  f.Set("disk", Level::kCritical, 40);
  f.book.Acknowledge(1, {"bob", "cli", kT0 + 50, std::nullopt}, f.out);
  f.book.SetMaintenance(kT0 + 45);
  const nlohmann::json saved = f.book.Save();
  auto loaded = AlertBook::Load(nlohmann::json::parse(saved.dump()), policy);
  REQUIRE(loaded);
  CHECK(loaded->Save() == saved);
  CHECK(loaded->alerts() == f.book.alerts());
  // It goes on as the original would: disk's alert opens (id 2) at confirm.
  std::vector<Notice> a, b;
  f.book.Tick(kT0 + 70, a);
  loaded->Tick(kT0 + 70, b);
  CHECK(a == b);
  CHECK(a == Notices({{NoticeKind::kOpened, 2}}));

  CHECK(!AlertBook::Load(nlohmann::json::parse("[]"), policy));
  CHECK(!AlertBook::Load(nlohmann::json::parse("{\"v\":2}"), policy));
  nlohmann::json wrong = saved;
  wrong["alerts"][0]["opened"] = "yesterday";
  auto refused = AlertBook::Load(wrong, policy);
  REQUIRE(!refused);
  CHECK(refused.error().find("saved alert state") == 0);
  wrong = saved;
  wrong["tracks"]["gateway"].erase("bad");
  CHECK(!AlertBook::Load(wrong, policy));
  wrong = saved;
  wrong["alerts"][0]["checks"] = nlohmann::json::array();
  CHECK(!AlertBook::Load(wrong, policy));
}

TEST_CASE("bad since an earlier time: confirm counts from then, never from the future") {
  Fixture f;
  f.now = kT0 + 100;
  // Known bad since kT0 + 80 (an incident the receiver hears of 20 s after it opened).
  f.book.Observe("tmux", Level::kCritical, "down", "", f.now, f.out, kT0 + 80);
  CHECK(f.Take().empty());
  CHECK(f.book.NextWake() == kT0 + 110);
  f.TickAt(110);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 1}}));
  CHECK(f.book.Find(1)->opened == kT0 + 80);
  // Long bad already (a node silent since its last heartbeat): told at once.
  f.now = kT0 + 200;
  f.book.Observe("silent", Level::kCritical, "quiet", "", f.now, f.out, kT0 + 10);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 2}}));
  CHECK(f.book.Find(2)->opened == kT0 + 10);
  // A time ahead of now (a node clock in the future) is taken as now.
  f.now = kT0 + 300;
  f.book.Observe("disk", Level::kCritical, "full", "", f.now, f.out, kT0 + 900);
  f.TickAt(329);
  CHECK(f.Take().empty());
  f.TickAt(330);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 3}}));
  // An earlier time given for a check that is bad already changes nothing.
  f.now = kT0 + 400;
  f.book.Observe("disk", Level::kCritical, "full", "", f.now, f.out, kT0);
  CHECK(f.book.Find(3)->opened == kT0 + 300);
}

TEST_CASE("what the agent did goes with the check in its alert; exhaustion is told again") {
  Fixture f;
  f.Set("gateway", Level::kCritical, 0);
  // Noted before the alert opens: the opening shows it, no message of its own.
  f.book.SetNote("gateway", "tried to restart hermes-gateway.service (attempt 1 of 3): failed",
                 false, kT0 + 1, f.out);
  CHECK(f.Take().empty());
  f.TickAt(30);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 1}}));
  CHECK(f.book.Find(1)->checks.at(0).done ==
        "tried to restart hermes-gateway.service (attempt 1 of 3): failed");
  // Noted while open: the alert holds it; only `tell` makes a message.
  f.book.SetNote("gateway", "tried again (attempt 2 of 3): failed", false, kT0 + 40, f.out);
  CHECK(f.Take().empty());
  f.book.SetNote("gateway", "remediation exhausted after 3 attempt(s): needs you", true, kT0 + 50,
                 f.out);
  CHECK(f.Take() == Notices({{NoticeKind::kUpdated, 1}}));
  const Alert update = AlertBook::Render(*f.book.Find(1), "vps-1", NoticeKind::kUpdated);
  CHECK(update.update);
  CHECK_FALSE(update.reminder);
  CHECK(update.checks.at(0).done == "remediation exhausted after 3 attempt(s): needs you");
  // The message counts as a notice: the next reminder is `repeat` after it.
  CHECK(f.book.Find(1)->last_notice == kT0 + 50);
  // Acknowledged: nothing is told any more.
  REQUIRE(f.book.Acknowledge(1, {"ada", "cli", kT0 + 60, {}}, f.out) == AckResult::kAcknowledged);
  f.Take();
  f.book.SetNote("gateway", "exhausted again", true, kT0 + 70, f.out);
  CHECK(f.Take().empty());
}

TEST_CASE("the note of a resolved alert goes with it; the next incident starts without one") {
  Fixture f;
  f.Set("gateway", Level::kCritical, 0);
  f.TickAt(30);
  f.Take();
  f.book.SetNote("gateway", "restarted automatically; healthy after 6s", false, kT0 + 36, f.out);
  f.Set("gateway", Level::kOk, 36);
  CHECK(f.Take() == Notices({{NoticeKind::kResolved, 1}}));
  REQUIRE(f.book.just_resolved().contains(1));
  CHECK(f.book.just_resolved().at(1).checks.at(0).done ==
        "restarted automatically; healthy after 6s");
  f.Set("gateway", Level::kCritical, 100);
  f.TickAt(130);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 2}}));
  CHECK(f.book.Find(2)->checks.at(0).done.empty());
  // A problem fixed before `confirm`: its note goes with the story, untold.
  f.Set("tmux", Level::kCritical, 200);
  f.book.SetNote("tmux", "created BURN2 automatically", false, kT0 + 201, f.out);
  f.Set("tmux", Level::kOk, 202);
  f.Set("tmux", Level::kCritical, 300);
  f.TickAt(330);
  CHECK(f.Take() == Notices({{NoticeKind::kOpened, 3}}));
  CHECK(f.book.Find(3)->checks.at(0).done.empty());
  // Saved and loaded with the note.
  f.book.SetNote("tmux", "created BURN2 automatically", false, kT0 + 331, f.out);
  auto loaded = AlertBook::Load(f.book.Save(), AlertPolicy{});
  REQUIRE(loaded.ok());
  CHECK(loaded->Find(3)->checks.at(0).done == "created BURN2 automatically");
  CHECK(loaded->Save() == f.book.Save());
}
