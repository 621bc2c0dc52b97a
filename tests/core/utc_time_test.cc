#include <doctest/doctest.h>

#include "base/utc_time.h"

using namespace fleet;

namespace {
UnixSeconds At(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return DaysFromCivil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}
}  // namespace

TEST_CASE("UTC minute slicing is plain division, also before 1970") {
  CHECK(MinuteOf(0) == 0);
  CHECK(MinuteOf(59) == 0);
  CHECK(MinuteOf(60) == 1);
  CHECK(MinuteOf(-1) == -1);
  CHECK(FormatUtc(At(2026, 11, 25, 10, 0, 7)) == "2026-11-25T10:00:07Z");
  CHECK(FormatUtc(0) == "1970-01-01T00:00:00Z");
}

TEST_CASE("months: 28 to 31 days, leap days, December rolls the year") {
  CHECK(ParseMonth("2026-02")->Minutes() == 28 * 1440);
  CHECK(ParseMonth("2028-02")->Minutes() == 29 * 1440);  // leap year
  CHECK(ParseMonth("2100-02")->Minutes() == 28 * 1440);  // century, not leap
  CHECK(ParseMonth("2000-02")->Minutes() == 29 * 1440);  // 400-year rule
  CHECK(ParseMonth("2026-04")->Minutes() == 30 * 1440);
  CHECK(ParseMonth("2026-12")->Minutes() == 31 * 1440);
  CHECK(ParseMonth("2026-12")->end == At(2027, 1, 1));
  CHECK(MonthOf(At(2028, 2, 29, 23, 59, 59)).label == "2028-02");
  CHECK(MonthOf(At(2028, 3, 1)).label == "2028-03");
  CHECK_FALSE(ParseMonth("2026-13").has_value());
  CHECK_FALSE(ParseMonth("2026-1").has_value());
  CHECK_FALSE(ParseMonth("26-01x").has_value());
  CHECK_FALSE(ParseMonth("").has_value());
}

TEST_CASE("ISO weeks: Monday start, week 1 holds the first Thursday, W53") {
  Period w = IsoWeekOf(At(2026, 11, 25, 12));  // a Wednesday
  CHECK(w.label == "2026-W48");
  CHECK(w.begin == At(2026, 11, 23));
  CHECK(w.end == At(2026, 11, 30));
  CHECK(w.Minutes() == 7 * 1440);
  CHECK(IsoWeekOf(At(2027, 1, 1)).label == "2026-W53");    // 2026 has 53 ISO weeks
  CHECK(IsoWeekOf(At(2024, 12, 30)).label == "2025-W01");  // belongs to the next ISO year
  CHECK(IsoWeekOf(At(2021, 1, 3)).label == "2020-W53");
  CHECK(ParseIsoWeek("2026-W48")->begin == At(2026, 11, 23));
  CHECK(ParseIsoWeek("2025-W01")->begin == At(2024, 12, 30));
  CHECK(ParseIsoWeek("2026-W53").has_value());
  CHECK_FALSE(ParseIsoWeek("2025-W53").has_value());  // 2025 has 52
  CHECK_FALSE(ParseIsoWeek("2026-W00").has_value());
  CHECK_FALSE(ParseIsoWeek("2026W48").has_value());
  CHECK_FALSE(ParseIsoWeek("2026-W4x").has_value());
}

TEST_CASE("FormatUtc of a time point: seconds, truncated towards the past, before 1970 too") {
  using namespace std::chrono;
  const auto t = system_clock::time_point{seconds{At(2026, 6, 13, 12, 0, 5)}} + milliseconds{999};
  CHECK(FormatUtc(t) == "2026-06-13T12:00:05Z");
  CHECK(FormatUtc(system_clock::time_point{milliseconds{-1}}) == "1969-12-31T23:59:59Z");
  CHECK(FormatUtc(At(2028, 2, 29, 23, 59, 59)) == "2028-02-29T23:59:59Z");
}

TEST_CASE("ParseUtcSeconds reads exactly the records' form and nothing else") {
  CHECK(ParseUtcSeconds("2026-11-25T10:00:07Z") == At(2026, 11, 25, 10, 0, 7));
  CHECK(ParseUtcSeconds("2028-02-29T00:00:00Z") == At(2028, 2, 29));
  for (const char* bad :
       {"", "2026-11-25T10:00:07", "2026-11-25T10:00:07+00:00", "2026-11-25T10:00:07.5Z",
        "2026-11-25 10:00:07Z", "2026-11-25t10:00:07Z", "2026-02-29T00:00:00Z",
        "2026-11-31T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T10:60:00Z",
        "2026-11-25T10:00:60Z", "+2026-11-25T10:00:0Z", "2026-1-25T10:00:07ZZ",
        "2026-11-25T10:00:07z", "２026-11-25T10:00:07Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseUtcSeconds(bad).has_value());
  }
}

TEST_CASE("ParseRfc3339 applies the offset, drops the fraction, refuses the rest") {
  const auto noon = At(2026, 6, 13, 12, 0, 0);
  CHECK(ParseRfc3339("2026-06-13T12:00:00Z") == noon);
  CHECK(ParseRfc3339("2026-06-13t12:00:00z") == noon);
  CHECK(ParseRfc3339("2026-06-13T14:00:00+02:00") == noon);
  CHECK(ParseRfc3339("2026-06-13T07:30:00-04:30") == noon);
  CHECK(ParseRfc3339("2026-06-13T12:00:00.123456789Z") == noon);
  CHECK(ParseRfc3339("2026-06-14T00:00:00+12:00") == noon);
  for (const char* bad :
       {"2026-06-13T12:00:00", "2026-06-13T12:00:00+0200", "2026-06-13T12:00:00+02",
        "2026-06-13T12:00:00.Z", "2026-06-13T12:00:00.1234567890Z", "2026-06-13T12:00Z",
        "2026-06-13 12:00:00Z", "2026-06-13T12:00:00+24:00", "2026-06-13T12:00:00+02:60",
        "2026-06-13T12:00:00Z ", "2026-06-13T12:00:00", "2026-13-01T00:00:00Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseRfc3339(bad).has_value());
  }
}
