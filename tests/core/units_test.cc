#include <doctest/doctest.h>

#include "base/units.h"
#include "core/status.h"

using namespace fleet;
using namespace std::chrono_literals;

TEST_CASE("durations: units, garbage and limits") {
  CHECK(ParseDuration("30s").value() == 30s);
  CHECK(ParseDuration("5m").value() == 5min);
  CHECK(ParseDuration("2h").value() == 2h);
  CHECK(ParseDuration("1d").value() == 24h);
  CHECK(ParseDuration("250ms").value() == 250ms);
  CHECK(ParseDuration(" 1.5m ").value() == 90s);
  CHECK_FALSE(ParseDuration("30").ok());
  CHECK_FALSE(ParseDuration("").ok());
  CHECK_FALSE(ParseDuration("m").ok());
  CHECK_FALSE(ParseDuration("-5s").ok());
  CHECK_FALSE(ParseDuration("5 weeks").ok());
  CHECK_FALSE(ParseDuration("1e9h").ok());
  CHECK_FALSE(ParseDuration("99999999999999999999d").ok());
  CHECK(ParseDuration("30").error().find("unit") != std::string::npos);
}

TEST_CASE("sizes and percentages") {
  CHECK(ParseSize("512MiB").value() == 512ull * 1024 * 1024);
  CHECK(ParseSize("256KiB").value() == 256ull * 1024);
  CHECK(ParseSize("1GB").value() == 1000000000ull);
  CHECK(ParseSize("4096").value() == 4096ull);
  CHECK_FALSE(ParseSize("12 parsecs").ok());
  CHECK_FALSE(ParseSize("-1MiB").ok());
  CHECK_FALSE(ParseSize("99999999999TiB").ok());
  CHECK(ParsePercent("15%").value() == doctest::Approx(15.0));
  CHECK(ParsePercent("99.5%").value() == doctest::Approx(99.5));
  CHECK_FALSE(ParsePercent("15").ok());
  CHECK_FALSE(ParsePercent("150%").ok());
  CHECK_FALSE(ParsePercent("%").ok());
}

TEST_CASE("formatting for summaries") {
  CHECK(FormatDuration(45s) == "45s");
  CHECK(FormatDuration(12min) == "12m");
  CHECK(FormatDuration(3h + 5min) == "3h 5m");
  CHECK(FormatDuration(50h) == "2d 2h");
  CHECK(FormatDuration(-5s) == "0s");
  CHECK(FormatBytes(100) == "100 B");
  CHECK(FormatBytes(1536) == "1.5 KiB");
  CHECK(FormatBytes(812ull << 20) == "812 MiB");
}

TEST_CASE("status severity: critical beats unknown beats warning beats ok") {
  CHECK(Worse(Status::kOk, Status::kWarning) == Status::kWarning);
  CHECK(Worse(Status::kWarning, Status::kUnknown) == Status::kUnknown);
  CHECK(Worse(Status::kCritical, Status::kUnknown) == Status::kCritical);
  CHECK(Worse(Status::kUnknown, Status::kCritical) == Status::kCritical);
  CHECK(NagiosExitCode(Status::kUnknown) == 3);
  CHECK(ParseStatus("warning") == Status::kWarning);
  CHECK_FALSE(ParseStatus("WARN").has_value());
}
