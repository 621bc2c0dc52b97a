// The cron check: timestamp and cron-expression parsing, ParseJobsFile on good, truncated,
// garbage and wrongly typed input, the rules at a fixed clock, and the collector reading
// through a FakeOs (with a fault wrapper for permission errors, since root reads anything).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "base/json_text.h"
#include "collectors/cron/cron_check.h"
#include "collectors/cron/cron_expression.h"
#include "collectors/cron/cron_rules.h"
#include "collectors/cron/jobs_file.h"
#include "collectors/cron/timestamp.h"
#include "tests/support/alloc_meter.h"
#include "tests/support/fake_os.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::chrono::sys_seconds Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / mo / d} + std::chrono::hours(h) +
         std::chrono::minutes(mi) + std::chrono::seconds(s);
}

// ISO text for FakeEpoch() + delta, in +02:00 like a Hermes node in Berlin.
std::string Local(std::chrono::seconds delta) {
  const auto at = std::chrono::floor<std::chrono::seconds>(testing::FakeEpoch() + delta) + 2h;
  std::string text = FormatUtc(at);
  text.pop_back();  // the 'Z'
  return text + "+02:00";
}

json Job(std::string name, json schedule) {
  return {{"id", name + "-id"},
          {"name", name},
          {"schedule", std::move(schedule)},
          {"enabled", true},
          {"state", "scheduled"},
          {"last_status", "ok"},
          {"last_error", nullptr},
          {"failure_streak", 0},
          {"next_run_at", Local(10min)},
          {"last_run_at", Local(-20min)}};
}

json Interval(int minutes) {
  return {{"kind", "interval"},
          {"minutes", minutes},
          {"display", "every " + std::to_string(minutes) + "m"}};
}

json CronExpr(std::string expr) { return {{"kind", "cron"}, {"expr", expr}, {"display", expr}}; }

CheckResult Evaluate(const json& jobs, int critical = 3) {
  auto parsed = ParseJobsFile(json{{"jobs", jobs}}.dump());
  REQUIRE(parsed.ok());
  CronRuleInput input;
  input.now = testing::FakeEpoch();
  input.critical_failure_streak = critical;
  input.output_dir = "~/.hermes/cron/output";
  return EvaluateCronJobs(*parsed, input);
}

bool Printable(const std::string& text) {
  for (char c : text) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

CheckResult EvaluateOne(const json& job, int critical = 3) {
  return Evaluate(json::array({job}), critical);
}

CheckResult RunCron(const Os& os, const std::string& home, CronOptions options = {}) {
  HermesTarget hermes{UserInfo{"hermes", 1000, 1000, "/home/hermes"}, home};
  CheckContext context{os, hermes, std::chrono::steady_clock::now() + 2s};
  return MakeCronCheck(std::move(options))->Run(context);
}

}  // namespace

// ---- timestamps ----

TEST_CASE("cron: timestamps with offsets, Z, fractions and naive times") {
  auto t = ParseTimestamp("2026-06-13T03:00:00.123456+02:00");
  REQUIRE(t.ok());
  CHECK(t->at == Utc(2026, 6, 13, 1) + 123456us);
  CHECK(t->wall == Utc(2026, 6, 13, 3));
  CHECK_FALSE(t->naive);

  CHECK(ParseTimestamp("2026-06-13T01:00:00Z")->at == Utc(2026, 6, 13, 1));
  CHECK(ParseTimestamp("2026-06-13 01:00:00+0000")->at == Utc(2026, 6, 13, 1));
  CHECK(ParseTimestamp("2026-06-13T01:00-05")->at == Utc(2026, 6, 13, 6));
  CHECK(ParseTimestamp("2026-06-12T23:30:00-04:30")->at == Utc(2026, 6, 13, 4));
  CHECK(ParseTimestamp("2026-06-13T01:00:00.5Z")->at == Utc(2026, 6, 13, 1) + 500ms);
  CHECK(ParseTimestamp("2026-06-13T01:00:00.1234567891Z")->at == Utc(2026, 6, 13, 1) + 123456789ns);
  CHECK(ParseTimestamp("2028-02-29T00:00:00Z").ok());

  auto naive = ParseTimestamp("2026-06-13T01:00:00");
  REQUIRE(naive.ok());
  CHECK(naive->naive);
  CHECK(naive->at == Utc(2026, 6, 13, 1));
}

TEST_CASE("cron: timestamps that are not times are refused with the text shown") {
  for (const char* bad : {"", "   ", "2026-06-13", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
                          "2026-06-31T00:00:00Z", "2026-06-13T24:00:00Z", "2026-06-13T12:60:00Z",
                          "2026-06-13T12:00:00+25:00", "2026-06-13T12:00:00 tomorrow",
                          "2026-06-13T12:00:00.Z", "9999-01-01T00:00:00Z", "1900-01-01T00:00:00Z",
                          "13/06/2026 12:00", "2026-6-13T12:00:00Z", "2026-06-13T12:00:00+02:"}) {
    auto t = ParseTimestamp(bad);
    CHECK_MESSAGE(!t.ok(), bad);
    if (!t.ok()) CHECK(t.error().find("ISO-8601") != std::string::npos);
  }
  auto binary = ParseTimestamp(std::string("\xff\x00\x01garbage", 10));
  REQUIRE_FALSE(binary.ok());
  CHECK(Printable(binary.error()));
}

// ---- cron expressions ----

TEST_CASE("cron: the period of common expressions") {
  const auto at = Utc(2026, 6, 13, 3);  // a Saturday
  auto gap = [&](const char* text, std::chrono::sys_seconds around) {
    auto expr = ParseCronExpression(text);
    REQUIRE_MESSAGE(expr.ok(), text);
    return FiringGap(*expr, around);
  };
  CHECK(gap("*/15 * * * *", at) == 15min);
  CHECK(gap("0 3 * * *", at) == 24h);
  CHECK(gap("@hourly", at) == 1h);
  CHECK(gap("@daily", at) == 24h);
  CHECK(gap("@weekly", at) == std::chrono::days(7));
  CHECK(gap("0 9 * jan,JUN mon-fri", Utc(2026, 6, 12, 9)) == std::chrono::days(3));  // Fri->Mon
  CHECK(gap("0 9-17 * * 1-5", Utc(2026, 6, 12, 17)) == 64h);  // Friday evening to Monday
  CHECK(gap("0 9-17 * * 1-5", Utc(2026, 6, 15, 9)) == 1h);
  CHECK(gap("5/20 * * * *", Utc(2026, 6, 13, 3, 5)) == 20min);
  CHECK(gap("0 0 * * 7", Utc(2026, 6, 14)) == std::chrono::days(7));  // 7 is Sunday too
  // Day of month and day of week both restricted: either fires (Vixie cron, croniter).
  CHECK(gap("0 0 13 * 1", Utc(2026, 6, 13)) == std::chrono::days(2));  // 13th (Sat) -> Mon 15th
  CHECK_FALSE(gap("0 0 30 2 *", at).has_value());                      // never fires

  for (const char* bad :
       {"", "0 3 * *", "0 3 * * * *", "61 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 L * *",
        "0 0 * * 1#2", "*/0 * * * *", "5-1 * * * *", "a b c d e", "@reboot"}) {
    CHECK_MESSAGE(!ParseCronExpression(bad).ok(), bad);
  }
}

// ---- ParseJobsFile ----

TEST_CASE("cron: the three shapes of jobs.json") {
  auto newest = ParseJobsFile(testing::ReadTestData("hermes-home/cron/jobs.json"));
  REQUIRE(newest.ok());
  CHECK(newest->shape == JobsFile::Shape::kJobsObject);
  REQUIRE(newest->jobs.size() == 7);
  CHECK(newest->updated_at == "2026-06-13T13:51:12.004711+02:00");
  const CronJob& daily = newest->jobs[0];
  CHECK(daily.id == "a1b2c3d4e5f6");
  CHECK(daily.name == "daily-report");
  CHECK(daily.schedule.kind == CronSchedule::Kind::kCron);
  CHECK(daily.schedule.expr == "0 3 * * *");
  CHECK(daily.last_status == "error");
  CHECK(daily.failure_streak == 3);
  CHECK(daily.problems.empty());
  CHECK(newest->jobs[1].schedule.minutes == 30);
  CHECK(newest->jobs[3].name == "reminder: dentist \u2713");
  CHECK(newest->jobs[3].schedule.run_at == "2026-06-10T09:00:00+02:00");
  CHECK_FALSE(newest->jobs[6].last_status.has_value());

  auto list = ParseJobsFile(testing::ReadTestData("cron/jobs-list.json"));
  REQUIRE(list.ok());
  CHECK(list->shape == JobsFile::Shape::kList);
  REQUIRE(list->jobs.size() == 2);
  CHECK_FALSE(list->jobs[0].failure_streak.has_value());

  auto keyed = ParseJobsFile(testing::ReadTestData("cron/jobs-id-keyed.json"));
  REQUIRE(keyed.ok());
  CHECK(keyed->shape == JobsFile::Shape::kIdKeyed);
  REQUIRE(keyed->jobs.size() == 2);
  CHECK(keyed->jobs[0].id == "feedface0001");  // the key stands in for a missing id
  CHECK(keyed->jobs[1].schedule.expr == "15 2 * * *");

  auto empty_list = ParseJobsFile("[]");
  REQUIRE(empty_list.ok());
  CHECK(empty_list->jobs.empty());
  auto empty_object = ParseJobsFile("{}");
  REQUIRE(empty_object.ok());
  CHECK(empty_object->shape == JobsFile::Shape::kIdKeyed);
  CHECK(ParseJobsFile("{\"jobs\": [], \"updated_at\": \"2026-06-13T00:00:00Z\"}")->jobs.empty());
}

TEST_CASE("cron: fields of the wrong type are ignored and named, entries not objects skipped") {
  auto file = ParseJobsFile(testing::ReadTestData("cron/jobs-wrong-types.json"));
  REQUIRE(file.ok());
  REQUIRE(file->jobs.size() == 2);
  REQUIRE(file->problems.size() == 4);  // updated_at, then "not a job", 17, null
  CHECK(file->problems[0] == "updated_at is a number, expected a string: ignored");
  CHECK(file->problems[1] == "jobs[1] is a string, not a job: skipped");
  CHECK(file->problems[3] == "jobs[3] is a null, not a job: skipped");
  CHECK_FALSE(file->updated_at.has_value());

  const CronJob& odd = file->jobs[0];
  CHECK(odd.name == "badbadbad001");  // name 42 ignored: the id stands in
  CHECK_FALSE(odd.enabled.has_value());
  CHECK(odd.state.empty());
  CHECK_FALSE(odd.last_status.has_value());
  CHECK_FALSE(odd.failure_streak.has_value());
  CHECK_FALSE(odd.next_run_at.has_value());
  CHECK_FALSE(odd.schedule.minutes.has_value());
  std::string all;
  for (const auto& p : odd.problems) all += p + "\n";
  for (const char* field :
       {"name is a number", "enabled is a string", "state is a number", "next_run_at is a number",
        "last_run_at is an object", "last_status is a boolean", "last_error is an array",
        "failure_streak is a string", "schedule.minutes", "schedule.display is an array"}) {
    CHECK_MESSAGE(all.find(field) != std::string::npos, field);
  }
  const CronJob& negative = file->jobs[1];
  CHECK_FALSE(negative.failure_streak.has_value());
  CHECK(negative.schedule.kind == CronSchedule::Kind::kCron);  // a bare string schedule

  // The rules still run on what was usable.
  CronRuleInput input;
  input.now = testing::FakeEpoch();
  auto result = EvaluateCronJobs(*file, input);
  CHECK(result.status == Status::kWarning);
  CHECK(result.summary.find("'negative-streak' failed its last run: boom") != std::string::npos);
  CHECK(result.details["problems"].size() == 4);
  CHECK(result.details.dump(-1, ' ', false, json::error_handler_t::strict).size() > 0);
}

TEST_CASE("cron: a jobs.json that is none of the shapes is refused with the reason") {
  struct Case {
    const char* text;
    const char* reason;
  } cases[] = {
      {"", "empty"},
      {"  \n\t ", "empty"},
      {"{\"jobs\": \"daily\"}", "\"jobs\" is a string, expected a list"},
      {"{\"jobs\": {\"a\": 1}}", "\"jobs\" is an object, expected a list"},
      {"{\"jobs\": null}", "\"jobs\" is a null"},
      {"\"jobs\"", "holds a string"},
      {"42", "holds a number"},
      {"null", "holds a null"},
      {"{\"jobs\": [] } trailing", "not valid JSON"},
      {"{'jobs': []}", "not valid JSON"},
      {"\xef\xbb\xbf{\"jobs\": [}", "not valid JSON"},
  };
  for (const auto& c : cases) {
    auto file = ParseJobsFile(c.text);
    REQUIRE_MESSAGE(!file.ok(), c.text);
    CHECK_MESSAGE(file.error().find(c.reason) != std::string::npos, file.error());
  }
  CHECK(ParseJobsFile("\xef\xbb\xbf{\"jobs\": []}").ok());  // a BOM is tolerated
}

TEST_CASE("cron: truncated jobs.json at every cut point is an error, never a crash") {
  const std::string text = testing::ReadTestData("hermes-home/cron/jobs.json");
  std::size_t last_content = text.find_last_not_of(" \n");
  int refused = 0;
  for (std::size_t cut = 0; cut < last_content; cut += 7) {
    auto file = ParseJobsFile(std::string_view(text).substr(0, cut));
    CHECK_FALSE(file.ok());
    if (!file.ok()) ++refused;
  }
  CHECK(refused > 100);
  auto cut = ParseJobsFile(std::string_view(text).substr(0, 200));
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().find("not valid JSON: parse error at line") != std::string::npos);
}

TEST_CASE("cron: garbage and binary input give printable errors") {
  std::mt19937 random(1234);
  for (int round = 0; round < 200; ++round) {
    std::string noise(1 + random() % 300, '\0');
    for (char& c : noise) c = static_cast<char>(random() % 256);
    if (round % 3 == 0) noise = "{\"jobs\": [{\"name\": \"" + noise;  // garbage inside a string
    auto file = ParseJobsFile(noise);
    if (!file.ok()) CHECK_MESSAGE(Printable(file.error()), file.error());
  }
  auto invalid_utf8 = ParseJobsFile("{\"jobs\": [{\"name\": \"caf\xe9\"}]}");
  REQUIRE_FALSE(invalid_utf8.ok());
  CHECK(invalid_utf8.error().find("not valid JSON") != std::string::npos);
}

TEST_CASE("cron: absurd nesting is refused before it can reach the stack") {
  auto deep = ParseJobsFile(std::string(100000, '['));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().find("nested deeper than 128") != std::string::npos);
  auto balanced = ParseJobsFile(std::string(100000, '[') + std::string(100000, ']'));
  REQUIRE_FALSE(balanced.ok());
  std::string objects;
  for (int i = 0; i < 50000; ++i) objects += "{\"a\":";
  CHECK_FALSE(ParseJobsFile(objects).ok());
  // Brackets inside strings are text, not nesting.
  auto in_string = ParseJobsFile("{\"jobs\": [{\"name\": \"" + std::string(1000, '[') + "\"}]}");
  REQUIRE(in_string.ok());
  CHECK(in_string->jobs[0].name.size() == 1000);
  // A job nested 100 deep in an unused field is still fine.
  auto moderate =
      ParseJobsFile("{\"jobs\": [{\"name\": \"x\", \"extra\": " + std::string(100, '[') +
                    std::string(100, ']') + "}]}");
  CHECK(moderate.ok());
}

TEST_CASE("cron: unicode names and errors survive, long errors are cut on a character") {
  json job = Job("r\u00e9sum\u00e9-\u65e5\u62a5-\U0001F680", Interval(30));
  job["last_status"] = "error";
  std::string error;
  for (int i = 0; i < 100; ++i) error += "\u00e9\u65e5";  // 5 bytes per round
  job["last_error"] = error;
  auto result = EvaluateOne(job);
  CHECK(result.status == Status::kWarning);
  CHECK(result.summary.find("r\u00e9sum\u00e9-\u65e5\u62a5-\U0001F680") != std::string::npos);
  const std::string detail = result.details["jobs"][0]["last_error"];
  CHECK(detail.size() <= 203);
  CHECK(detail.substr(detail.size() - 3) == "...");
  // strict dumping throws on invalid UTF-8: the cut kept every character whole.
  CHECK_NOTHROW((void)result.details.dump(-1, ' ', false, json::error_handler_t::strict));
  CHECK_NOTHROW((void)json(result.summary).dump(-1, ' ', false, json::error_handler_t::strict));
}

// ---- the rules ----

TEST_CASE("cron: a failure streak at the configured count is CRITICAL and says where to look") {
  json job = Job("daily-report", CronExpr("0 3 * * *"));
  job["last_status"] = "error";
  job["last_error"] = "Timeout after 600s\nTraceback (most recent call last): ...";
  job["failure_streak"] = 3;
  auto result = EvaluateOne(job);
  CHECK(result.status == Status::kCritical);
  CHECK(result.summary ==
        "job 'daily-report' failed 3 times in a row: Timeout after 600s; see "
        "~/.hermes/cron/output/daily-report-id/");
  CHECK(result.details["jobs"][0]["failure_streak"] == 3);
  CHECK(result.details["jobs"][0]["failure_streak_source"] == "jobs.json");

  job["failure_streak"] = 2;
  auto two = EvaluateOne(job);
  CHECK(two.status == Status::kWarning);
  CHECK(two.summary.find("job 'daily-report' failed its last run: Timeout after 600s") == 0);
  CHECK(EvaluateOne(job, /*critical=*/2).status == Status::kCritical);
}

TEST_CASE("cron: without failure_streak the streak is assumed from last_status, and said so") {
  json job = Job("old-style", Interval(30));
  job.erase("failure_streak");
  job["last_status"] = "error";
  job["last_error"] = "boom";
  auto result = EvaluateOne(job);
  CHECK(result.status == Status::kWarning);
  CHECK(result.details["jobs"][0]["failure_streak"] == 1);
  CHECK(result.details["jobs"][0]["failure_streak_source"].get<std::string>().find("assumed") == 0);
  CHECK(result.details["notes"][0].get<std::string>().find("no failure_streak") !=
        std::string::npos);
  CHECK(EvaluateOne(job, /*critical=*/1).status == Status::kCritical);

  job["last_status"] = "ok";
  auto ok = EvaluateOne(job);
  CHECK(ok.status == Status::kOk);
  CHECK(ok.details["jobs"][0]["failure_streak"] == 0);
}

TEST_CASE("cron: a failed delivery is a WARNING of its own, not a failed run") {
  json job = Job("market-watch", Interval(60));
  job["last_status"] = "delivery_failed";
  job["last_delivery_error"] = "telegram: chat not found";
  job.erase("failure_streak");
  auto result = EvaluateOne(job, /*critical=*/1);
  CHECK(result.status == Status::kWarning);
  CHECK(result.summary ==
        "job 'market-watch' ran but its delivery failed: telegram: chat not found; check the "
        "delivery target");
  CHECK(result.details["totals"]["delivery_failed"] == 1);
  CHECK(result.details["totals"]["failed"] == 0);
  CHECK(result.details["jobs"][0]["failure_streak"] == 0);
  // ...unless Hermes itself counts it into the streak.
  job["failure_streak"] = 4;
  CHECK(EvaluateOne(job).status == Status::kCritical);
}

TEST_CASE("cron: the result lists each finished run, typed, for the accountant") {
  json ok = Job("daily-report", Interval(60));
  ok["last_status"] = "success";  // Hermes's other word for ok
  json failed = Job("market-watch", Interval(30));
  failed["last_status"] = "error";
  failed["last_error"] = "Timeout after 300s";
  json undelivered = Job("", Interval(30));  // no name: the id names it
  undelivered["last_status"] = "delivery_failed";
  json never = Job("never", Interval(30));
  never["last_status"] = nullptr;
  never["last_run_at"] = nullptr;
  json unreadable = Job("garbled", Interval(30));
  unreadable["last_run_at"] = "yesterday";  // cannot be counted once
  auto result = Evaluate({ok, failed, undelivered, never, unreadable});
  REQUIRE(result.finished_runs.size() == 3);
  const FinishedRun& first = result.finished_runs[0];
  CHECK(first.job == "daily-report-id");
  CHECK(first.name == "daily-report");
  CHECK(first.run_at == Local(-20min));  // as written: with the job, the run's identity
  CHECK(first.run_at_unix == std::chrono::floor<std::chrono::seconds>(testing::FakeEpoch() - 20min)
                                 .time_since_epoch()
                                 .count());
  CHECK(first.ok);
  CHECK(first.error.empty());
  CHECK_FALSE(result.finished_runs[1].ok);
  CHECK(result.finished_runs[1].error == "Timeout after 300s");
  CHECK(result.finished_runs[2].name == "-id");
  CHECK_FALSE(result.finished_runs[2].ok);
  CHECK(result.finished_runs[2].error == "delivery_failed");  // no error text: the status
}

TEST_CASE("cron: an unknown last_status is shown as written and raises nothing") {
  json job = Job("quiet", Interval(30));
  job["last_status"] = "silent";
  auto result = EvaluateOne(job);
  CHECK(result.status == Status::kOk);
  CHECK(result.details["totals"]["other"] == 1);
  CHECK(result.details["jobs"][0]["last_status"] == "silent");
}

TEST_CASE("cron: missed runs by schedule kind, with the grace clamp and the 5 min floor") {
  struct Case {
    json schedule;
    std::chrono::seconds late_ok;      // this late is still fine
    std::chrono::seconds late_missed;  // this late is a missed run
  } cases[] = {
      {Interval(30), 14min, 16min},     // half of 30m
      {Interval(1), 4min, 6min},        // 2 min clamp, then the 5 min floor
      {Interval(600), 119min, 121min},  // clamped to 2h
      {CronExpr("*/20 * * * *"), 9min, 11min},
      {CronExpr("0 3 * * *"), 119min, 121min},
      {CronExpr("not a cron expression"), 119min, 121min},  // unknown period: 2h
      {json{{"kind", "once"}, {"run_at", Local(-1h)}, {"display", "once"}}, 4min, 6min},
      {json{{"kind", "lunar"}}, 119min, 121min},
      {json(nullptr), 119min, 121min},
  };
  for (const auto& c : cases) {
    CAPTURE(c.schedule.dump());
    json job = Job("job", c.schedule);
    job["next_run_at"] = Local(-c.late_ok);
    auto fine = EvaluateOne(job);
    CHECK(fine.status == Status::kOk);
    CHECK(fine.details["jobs"][0]["missed"] == false);
    job["next_run_at"] = Local(-c.late_missed);
    auto missed = EvaluateOne(job);
    CHECK(missed.status == Status::kWarning);
    CHECK(missed.details["jobs"][0]["missed"] == true);
    CHECK(missed.details["totals"]["missed"] == 1);
    CHECK(missed.summary.find("missed its run due") != std::string::npos);
    CHECK(missed.summary.find("check that it is running") != std::string::npos);
  }
}

TEST_CASE("cron: a cron period is read in the zone next_run_at was written in") {
  // Fires at 09:00 and 10:00 local. At 10:00+02:00 the next firing is 09:00 tomorrow
  // (grace 2h); read in UTC (08:00) it would look hourly (grace 30 min).
  json job = Job("twice-a-morning", CronExpr("0 9,10 * * *"));
  job["next_run_at"] = "2026-06-13T10:00:00+02:00";  // 08:00Z, FakeEpoch is 12:00Z
  CronRuleInput input;
  input.critical_failure_streak = 3;
  auto file = ParseJobsFile(json{{"jobs", json::array({job})}}.dump());
  REQUIRE(file.ok());
  input.now = std::chrono::sys_seconds(Utc(2026, 6, 13, 8, 45));
  CHECK(EvaluateCronJobs(*file, input).status == Status::kOk);
  input.now = std::chrono::sys_seconds(Utc(2026, 6, 13, 10, 1));
  CHECK(EvaluateCronJobs(*file, input).status == Status::kWarning);
}

TEST_CASE("cron: paused, disabled and completed jobs are never missed") {
  json paused = Job("paused", Interval(30));
  paused["state"] = "paused";
  paused["enabled"] = false;
  paused["next_run_at"] = Local(-3h);
  json disabled = Job("disabled", Interval(30));
  disabled["enabled"] = false;
  disabled["next_run_at"] = Local(-3h);
  json completed = Job("completed", json{{"kind", "once"}, {"run_at", Local(-3h)}});
  completed["state"] = "completed";
  completed["enabled"] = false;
  completed["next_run_at"] = Local(-3h);
  json no_next = Job("no-next", Interval(30));
  no_next["next_run_at"] = nullptr;
  json future = Job("future", Interval(30));
  future["next_run_at"] = Local(3h);
  auto result = Evaluate(json::array({paused, disabled, completed, no_next, future}));
  CHECK(result.status == Status::kOk);
  CHECK(result.details["totals"]["missed"] == 0);
  CHECK(result.details["totals"]["paused"] == 1);
  CHECK(result.details["totals"]["disabled"] == 1);
  CHECK(result.details["totals"]["enabled"] == 2);
  CHECK(result.summary == "5 cron jobs: 5 ok, 1 paused, 1 disabled");
}

TEST_CASE("cron: failures of paused jobs are listed, not raised; a completed job's are raised") {
  json paused = Job("paused-broken", Interval(30));
  paused["state"] = "paused";
  paused["last_status"] = "error";
  paused["failure_streak"] = 9;
  auto quiet = EvaluateOne(paused);
  CHECK(quiet.status == Status::kOk);
  CHECK(quiet.details["jobs"][0]["in_service"] == false);
  CHECK(quiet.details["totals"]["failed"] == 1);

  json completed = Job("last-run-failed", json{{"kind", "once"}});
  completed["state"] = "completed";
  completed["enabled"] = false;
  completed["last_status"] = "error";
  completed["last_error"] = "no answer";
  CHECK(EvaluateOne(completed).status == Status::kWarning);
}

TEST_CASE("cron: naive and unparsable times are noted, not fatal") {
  auto file = ParseJobsFile(testing::ReadTestData("cron/jobs-naive-times.json"));
  REQUIRE(file.ok());
  CronRuleInput input;
  input.now = testing::FakeEpoch();  // 12:00Z; next_run_at 11:20 naive = UTC: 40 min late
  auto result = EvaluateCronJobs(*file, input);
  CHECK(result.status == Status::kWarning);
  CHECK(result.details["jobs"][0]["missed"] == true);
  CHECK(result.details["jobs"][0]["problems"][0] == "next_run_at has no UTC offset: read as UTC");

  json job = Job("garbled", Interval(30));
  job["next_run_at"] = "soon";
  auto garbled = EvaluateOne(job);
  CHECK(garbled.status == Status::kOk);
  CHECK(garbled.details["jobs"][0]["problems"][0].get<std::string>().find(
            "cannot judge a missed run") != std::string::npos);
}

TEST_CASE("cron: totals and the summary name the worst job first") {
  json critical = Job("critical-one", Interval(30));
  critical["last_status"] = "error";
  critical["failure_streak"] = 5;
  json failed = Job("failed-one", Interval(30));
  failed["last_status"] = "error";
  failed["failure_streak"] = 1;
  json never = Job("never", Interval(30));
  never["last_status"] = nullptr;
  json missed = Job("late", Interval(30));
  missed["next_run_at"] = Local(-1h);
  auto result = Evaluate(json::array({missed, failed, never, critical}));
  CHECK(result.status == Status::kCritical);
  CHECK(result.summary.find("job 'critical-one' failed 5 times in a row") == 0);
  CHECK(result.summary.find("(+2 more problems)") != std::string::npos);
  const json& totals = result.details["totals"];
  CHECK(totals["jobs"] == 4);
  CHECK(totals["enabled"] == 4);
  CHECK(totals["ok"] == 1);
  CHECK(totals["failed"] == 2);
  CHECK(totals["never_run"] == 1);
  CHECK(totals["missed"] == 1);
  CHECK(totals["paused"] == 0);

  json late2 = Job("later", Interval(30));
  late2["next_run_at"] = Local(-3h);
  auto many_missed = Evaluate(json::array({missed, late2, never}));
  CHECK(many_missed.status == Status::kWarning);
  CHECK(many_missed.summary.find("2 jobs missed their runs ('later' due 3h ago)") == 0);

  CHECK(Evaluate(json::array()).summary == "no cron jobs defined");
  CHECK(Evaluate(json::array({never})).summary == "1 cron job: 1 never run");
}

// ---- the collector, reading through the Os seam ----

TEST_CASE("cron: the collector reads the Hermes home fixture") {
  testing::FakeOs os;
  testing::TempDir home;
  home.WriteFile("cron/jobs.json", testing::ReadTestData("hermes-home/cron/jobs.json"), 0600);
  home.WriteFile("cron/ticker_heartbeat", "1781351990.5\n");
  auto result = RunCron(os, home.path());
  CHECK(result.name == "cron");
  CHECK(result.status == Status::kCritical);
  CHECK(result.summary ==
        "job 'daily-report' failed 3 times in a row: Timeout: the agent "
        "produced no answer within 600s (model provider returned 529...; see " +
            home.path() + "/cron/output/a1b2c3d4e5f6/ (+2 more problems)");
  CHECK(result.details["path"] == home.Path("cron/jobs.json"));
  CHECK(result.details["symlink"] == false);
  CHECK(result.details["ticker_heartbeat_age_seconds"] == 9);
  const json& totals = result.details["totals"];
  CHECK(totals["jobs"] == 7);
  CHECK(totals["failed"] == 1);
  CHECK(totals["delivery_failed"] == 1);
  CHECK(totals["missed"] == 1);  // backup-notes, due 13:20+02:00, every 20 min
  CHECK(totals["paused"] == 1);
  CHECK(totals["never_run"] == 1);
}

TEST_CASE("cron: the collector on missing, unreadable, odd and oversized files") {
  testing::TempDir home;
  testing::FakeOs os;

  SUBCASE("no jobs.json in an existing home: no jobs, OK") {
    auto result = RunCron(os, home.path());
    CHECK(result.status == Status::kOk);
    CHECK(result.summary.find("no cron jobs") == 0);
  }
  SUBCASE("no Hermes home at all: UNKNOWN naming the setting") {
    auto result = RunCron(os, home.Path("nowhere"));
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary.find("set hermes.home or HERMES_HOME") != std::string::npos);
  }
  SUBCASE("permission denied") {
    os.denied = home.WriteFile("cron/jobs.json", "{\"jobs\": []}", 0000);
    auto result = RunCron(os, home.path());
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary == "cannot read " + os.denied + ": Permission denied");
  }
  SUBCASE("not JSON") {
    home.WriteFile("cron/jobs.json", "{\"jobs\": [");
    auto result = RunCron(os, home.path());
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary.find("cannot use " + home.Path("cron/jobs.json") + ": not valid JSON") ==
          0);
  }
  SUBCASE("a directory") {
    std::filesystem::create_directories(home.Path("cron/jobs.json"));
    auto result = RunCron(os, home.path());
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary.find("is a directory") != std::string::npos);
  }
  SUBCASE("a FIFO does not hang") {
    std::filesystem::create_directories(home.Path("cron"));
    REQUIRE(::mkfifo(home.Path("cron/jobs.json").c_str(), 0600) == 0);
    auto result = RunCron(os, home.path());
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary.find("not a regular file") != std::string::npos);
  }
  SUBCASE("over the size limit, refused before reading") {
    const std::string path = home.WriteFile("cron/jobs.json", "[");
    REQUIRE(::truncate(path.c_str(), 100'000'000) == 0);  // sparse: no disk used
    auto result = RunCron(os, home.path());
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary == path +
                                " is 95 MiB, over the 4.0 MiB limit for a jobs file (a few "
                                "KiB per job); check what wrote it");
  }
  SUBCASE("a symlink is followed and reported; a dangling one is UNKNOWN") {
    home.WriteFile("real/jobs.json", "{\"jobs\": []}");
    std::filesystem::create_directories(home.Path("cron"));
    std::filesystem::create_symlink(home.Path("real/jobs.json"), home.Path("cron/jobs.json"));
    auto result = RunCron(os, home.path());
    CHECK(result.status == Status::kOk);
    CHECK(result.details["symlink"] == true);
    CHECK(result.details["notes"][0].get<std::string>().find("symlink; followed") !=
          std::string::npos);
    std::filesystem::remove(home.Path("real/jobs.json"));
    auto dangling = RunCron(os, home.path());
    CHECK(dangling.status == Status::kUnknown);
    CHECK(dangling.summary.find("dangling symlink") != std::string::npos);
  }
  SUBCASE("a secret file is never read") {
    home.WriteFile("auth.json", "{\"jobs\": []}");
    CronOptions options;
    options.jobs_file = "auth.json";
    auto result = RunCron(os, home.path(), options);
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary.find("refusing to read") == 0);
  }
  SUBCASE("the operator's home is shown as ~") {
    HermesTarget hermes{UserInfo{"hermes", 1000, 1000, home.path()}, home.Path(".hermes")};
    home.WriteFile(".hermes/cron/jobs.json", "{\"jobs\": [");
    CheckContext context{os, hermes, std::chrono::steady_clock::now() + 2s};
    auto result = MakeCronCheck({})->Run(context);
    CHECK(result.summary.find("cannot use ~/.hermes/cron/jobs.json: ") == 0);
  }
}

TEST_CASE("cron: a jobs.json of large prompts keeps only the fields read, never a DOM of them") {
  // Hermes keeps each job's prompt (and more) in jobs.json: 40 jobs with a 64 KiB prompt
  // and a 20,000-element array of something this check does not read.
  std::string text = "{\"jobs\": [";
  for (int i = 0; i < 40; ++i) {
    if (i > 0) text += ",";
    text += "{\"id\": \"job" + std::to_string(i) + "\", \"prompt\": \"" +
            std::string(64 << 10, 'p') + "\", \"history\": [";
    for (int k = 0; k < 20000; ++k) text += k ? ",0" : "0";
    text += "], \"last_error\": [1, 2, 3], \"last_status\": \"ok\"}";
  }
  text += "]}";
  testing::AllocMeter meter;
  auto file = ParseJobsFile(text);
  const std::size_t peak = meter.PeakAbove();
  REQUIRE(file.ok());
  REQUIRE(file->jobs.size() == 40);
  CHECK(file->jobs[39].id == "job39");
  CHECK(file->jobs[39].last_status == "ok");
  // An array where a string belongs is still seen, and named.
  REQUIRE(file->jobs[0].problems.size() == 1);
  CHECK(file->jobs[0].problems[0] == "last_error is an array, expected a string: ignored");
  // A DOM of it would hold 40 x 20,000 elements of 16 bytes (12.8 MiB) and the prompts.
  CHECK_MESSAGE(peak < (1u << 20), "held " << peak << " bytes while parsing " << text.size());
}

TEST_CASE("cron: jobs.json through a symlink to a secret file, or planted in /tmp, is refused") {
  testing::PrivateTempDir home;  // no shared directory above it but its own
  testing::FakeOs os;
  SUBCASE("a symlink to auth.json") {
    const std::string secret = home.WriteFile("auth.json", "{\"jobs\": [{\"id\": \"sk-live\"}]}");
    std::filesystem::create_directories(home.Path("cron"));
    std::filesystem::create_symlink(secret, home.Path("cron/jobs.json"));
    auto result = RunCron(os, home.path());
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary == "refusing to read " + home.Path("cron/jobs.json") +
                                ": it resolves to " + secret +
                                ", a Hermes secret file; fix checks.cron.jobs_file");
    CHECK(result.details.dump().find("sk-live") == std::string::npos);
  }
  SUBCASE("a jobs file in a shared directory, owned by someone else") {
    std::filesystem::create_directories(home.Path("shared"));
    REQUIRE(::chmod(home.Path("shared").c_str(), 01777) == 0);
    const std::string jobs = home.WriteFile("shared/jobs.json", "{\"jobs\": []}");
    os.owners[jobs] = 4242;
    CronOptions options;
    options.jobs_file = jobs;
    auto result = RunCron(os, home.path(), options);
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary.find("refusing to read " + jobs + ": " + jobs + " is below " +
                              home.Path("shared") + ", which any local user may write to") == 0);
    os.owners[jobs] = 1000;
    CHECK(RunCron(os, home.path(), options).status == Status::kOk);
  }
}
