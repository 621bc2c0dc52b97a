#include <doctest/doctest.h>

#include "agent/history/time_slices.h"

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
