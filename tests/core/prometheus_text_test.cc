// The Prometheus text rendering (base/prometheus_text.h) and the strict reader the tests check
// it with (tests/support/exposition_parser.h): good, truncated and garbage text.
#include "base/prometheus_text.h"

#include <doctest/doctest.h>

#include <thread>

#include "tests/support/exposition_parser.h"

namespace fleet {
namespace {

using testing::ParseExposition;
using testing::SeriesKey;

std::vector<MetricFamily> Sample() {
  std::vector<MetricFamily> families;
  families.push_back(
      {"demo_requests_total",
       "Requests.\nSecond line with a \\ backslash.",
       MetricType::kCounter,
       {{{{"path", "/a\"b\\c\nd"}, {"code", "2xx"}}, 7}, {{{"path", "x"}, {"code", "5xx"}}, 0}},
       {}});
  families.push_back({"demo_up", "Up.", MetricType::kGauge, {{{}, 1}}, {}});
  HistogramSample h{{{"route", "r"}}, {0.1, 1, 10}, {2, 0, 3, 1}, 12.5};
  HistogramSample empty{{{"route", "s"}}, {0.1, 1, 10}, {0, 0, 0, 0}, 0};
  families.push_back({"demo_seconds", "Latency.", MetricType::kHistogram, {}, {h, empty}});
  return families;
}

TEST_CASE("rendering escapes label values and help, and writes exact numbers") {
  const std::string text = RenderExposition(Sample());
  CHECK(text.find("# HELP demo_requests_total Requests.\\nSecond line with a \\\\ backslash.\n") !=
        std::string::npos);
  CHECK(text.find("# TYPE demo_requests_total counter\n") != std::string::npos);
  CHECK(text.find(R"(demo_requests_total{path="/a\"b\\c\nd",code="2xx"} 7)") != std::string::npos);
  CHECK(text.find("demo_up 1\n") != std::string::npos);
  auto parsed = ParseExposition(text);
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  CHECK(parsed->Value(
            SeriesKey("demo_requests_total", {{"path", "/a\"b\\c\nd"}, {"code", "2xx"}})) == 7);
  CHECK(EscapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  CHECK(FormatMetricValue(3) == "3");
  CHECK(FormatMetricValue(0.0005) == "0.0005");
  CHECK(FormatMetricValue(0.1 + 0.2) == "0.30000000000000004");
  CHECK(std::stod(FormatMetricValue(0.1)) == 0.1);
  CHECK(FormatMetricValue(1.0 / 0.0) == "+Inf");
  CHECK(FormatMetricValue(-1.0 / 0.0) == "-Inf");
  CHECK(FormatMetricValue(std::nan("")) == "NaN");
  CHECK(FormatMetricValue(1e20) == "1e+20");
  CHECK(ValidMetricName("fleet_receiver:x_total"));
  CHECK_FALSE(ValidMetricName("9lives"));
  CHECK_FALSE(ValidMetricName("a-b"));
  CHECK_FALSE(ValidMetricName(""));
}

TEST_CASE("a histogram's buckets are cumulative and its _count is the +Inf bucket") {
  const std::string text = RenderExposition(Sample());
  auto parsed = ParseExposition(text);
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  const auto bucket = [&](const char* route, const char* le) {
    return parsed->Value(SeriesKey("demo_seconds_bucket", {{"route", route}, {"le", le}}));
  };
  CHECK(bucket("r", "0.1") == 2);
  CHECK(bucket("r", "1") == 2);
  CHECK(bucket("r", "10") == 5);
  CHECK(bucket("r", "+Inf") == 6);
  CHECK(parsed->Value(SeriesKey("demo_seconds_count", {{"route", "r"}})) == 6);
  CHECK(parsed->Value(SeriesKey("demo_seconds_sum", {{"route", "r"}})) == 12.5);
  CHECK(bucket("s", "+Inf") == 0);
  CHECK(parsed->Value(SeriesKey("demo_seconds_count", {{"route", "s"}})) == 0);
  CHECK(parsed->types.at("demo_seconds") == "histogram");
}

TEST_CASE("LatencyHistogram counts each observation once, from many threads, without a lock") {
  LatencyHistogram histogram;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&histogram] {
      for (int i = 0; i < 1000; ++i) histogram.Observe(std::chrono::microseconds(200 * (i % 10)));
    });
  }
  for (auto& thread : threads) thread.join();
  histogram.Observe(std::chrono::seconds(60));  // over every bound: +Inf only
  const HistogramSample sample = histogram.Snapshot({{"route", "x"}});
  std::uint64_t total = 0;
  for (auto c : sample.counts) total += c;
  CHECK(total == 4001);
  CHECK(sample.counts.back() == 1);
  CHECK(sample.counts.front() == 4 * 300);  // 0, 200 and 400 us are within 0.5 ms
  CHECK(sample.sum == doctest::Approx(60 + 4 * 100 * 0.0009 * 10).epsilon(1e-9));
  auto parsed =
      ParseExposition(RenderExposition({{"x_seconds", "x", MetricType::kHistogram, {}, {sample}}}));
  REQUIRE(parsed.ok());
  CHECK(parsed->Value(SeriesKey("x_seconds_count", {{"route", "x"}})) == 4001);
}

TEST_CASE("the strict reader refuses truncated and malformed expositions") {
  const std::string good = RenderExposition(Sample());
  REQUIRE(ParseExposition(good).ok());
  CHECK(ParseExposition("").ok());
  // Cut anywhere but at a line's end: refused (no final newline, or a line broken).
  for (std::size_t cut : {good.size() - 1, good.size() / 2, std::size_t{5}}) {
    CHECK_FALSE(ParseExposition(good.substr(0, cut)).ok());
  }
  const char* bad[] = {
      "x 1\n",                                   // no TYPE
      "# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n",  // label twice
      "# TYPE x gauge\nx{a=\"\\t\"} 1\n",        // bad escape
      "# TYPE x gauge\nx{a=\"1} 1\n",            // unterminated
      "# TYPE x gauge\nx 1\nx 2\n",              // series twice
      "# TYPE x gauge\nx one\n",                 // bad value
      "# TYPE x gauge\nx\n",                     // no value
      "# TYPE x_total counter\nx_total -1\n",    // counter below zero
      "# TYPE x counter\nx 1\n",                 // counter without _total
      "# TYPE x summary\n",                      // not ours
      "# TYPE x gauge\n# TYPE x gauge\n",        // TYPE twice
      "# TYPE x gauge\n# TYPE y gauge\nx 1\n",   // not together
      "# TYPE x gauge\n\nx 1\n",                 // empty line
      "# random comment\n",                      // neither HELP nor TYPE
      "# TYPE 1x gauge\n",                       // bad name
      "\x01\x02 garbage\n",                      // garbage
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 0\nh_count 2\n",  // no +Inf
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 0\nh_count 3\n",
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",  // no _sum
      "# TYPE h histogram\nh 2\n",                                 // no suffix
  };
  for (const char* text : bad) {
    INFO(text);
    CHECK_FALSE(ParseExposition(text).ok());
  }
}

}  // namespace
}  // namespace fleet
