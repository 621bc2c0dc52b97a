// Units: the human notations of the configuration file and of summaries. Durations are
// `30s`, `5m`, `2h`, `1d`, `250ms` (a bare number is refused: the unit is part of the
// contract), sizes `512MiB`/`1GB`/`4096` bytes, percentages `15%` (0..100). Parsers are
// pure and return Result so the config reader can attach file:line:column.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace fleet {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
Result<std::uint64_t> ParseSize(std::string_view text);
Result<double> ParsePercent(std::string_view text);

// "45s", "12m", "3h 5m", "2d 4h": the largest two units, for summaries.
std::string FormatDuration(std::chrono::seconds duration);
// "1.5 GiB", "812 MiB", "12 KiB", "100 B".
std::string FormatBytes(std::uint64_t bytes);

// A URL host that is loopback by its text alone: "localhost", "[::1]" or a dotted-quad IPv4
// literal in 127.0.0.0/8 ("127.evil.example" is a name anyone's DNS may answer).
bool IsLoopbackHostName(std::string_view host);

}  // namespace fleet
