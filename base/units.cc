#include "base/units.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace fleet {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "12.5MiB" into 12.5 and "MiB". Refuses signs, exponents and empty numbers.
bool SplitNumber(std::string_view s, double& number, std::string_view& unit) {
  std::size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, number);
  if (ec != std::errc() || ptr != s.data() + i || !std::isfinite(number)) return false;
  unit = Trim(s.substr(i));
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::string_view s = Trim(text);
  double number = 0;
  std::string_view unit;
  if (!SplitNumber(s, number, unit)) {
    return Error{"'" + std::string(text) + "' is not a duration (examples: 30s, 5m, 2h)"};
  }
  double ms_per_unit = 0;
  if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else if (unit == "d") {
    ms_per_unit = 86'400'000;
  } else if (unit.empty()) {
    return Error{"duration '" + std::string(text) + "' needs a unit (ms, s, m, h, d)"};
  } else {
    return Error{"duration '" + std::string(text) + "' has an unknown unit '" + std::string(unit) +
                 "' (use ms, s, m, h, d)"};
  }
  double ms = number * ms_per_unit;
  if (ms > 366.0 * 86'400'000) {
    return Error{"duration '" + std::string(text) + "' is longer than a year"};
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

Result<std::uint64_t> ParseSize(std::string_view text) {
  std::string_view s = Trim(text);
  double number = 0;
  std::string_view unit;
  if (!SplitNumber(s, number, unit)) {
    return Error{"'" + std::string(text) + "' is not a size (examples: 512MiB, 1GiB, 4096)"};
  }
  struct UnitFactor {
    std::string_view name;
    double factor;
  };
  static constexpr UnitFactor kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1024.0},
      {"MiB", 1048576.0},
      {"GiB", 1073741824.0},
      {"TiB", 1099511627776.0},
      {"kB", 1e3},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
      {"TB", 1e12},
  };
  for (const auto& u : kUnits) {
    if (u.name == unit) {
      double bytes = number * u.factor;
      if (bytes >= 1.8e19) return Error{"size '" + std::string(text) + "' is too large"};
      return static_cast<std::uint64_t>(std::llround(bytes));
    }
  }
  return Error{"size '" + std::string(text) + "' has an unknown unit '" + std::string(unit) +
               "' (use B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)"};
}

Result<double> ParsePercent(std::string_view text) {
  std::string_view s = Trim(text);
  double number = 0;
  std::string_view unit;
  if (!SplitNumber(s, number, unit) || unit != "%") {
    return Error{"'" + std::string(text) + "' is not a percentage (example: 15%)"};
  }
  if (number > 100) return Error{"percentage '" + std::string(text) + "' is above 100%"};
  return number;
}

std::string FormatDuration(std::chrono::seconds duration) {
  long long total = duration.count();
  if (total < 0) total = 0;
  const long long days = total / 86400;
  const long long hours = (total % 86400) / 3600;
  const long long minutes = (total % 3600) / 60;
  const long long seconds = total % 60;
  char buf[64];
  if (days > 0) {
    std::snprintf(buf, sizeof buf, hours ? "%lldd %lldh" : "%lldd", days, hours);
  } else if (hours > 0) {
    std::snprintf(buf, sizeof buf, minutes ? "%lldh %lldm" : "%lldh", hours, minutes);
  } else if (minutes > 0) {
    std::snprintf(buf, sizeof buf, seconds ? "%lldm %llds" : "%lldm", minutes, seconds);
  } else {
    std::snprintf(buf, sizeof buf, "%llds", seconds);
  }
  return buf;
}

std::string FormatBytes(std::uint64_t bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, value < 10 ? "%.1f %s" : "%.0f %s", value, kNames[unit]);
  }
  return buf;
}

bool IsLoopbackHostName(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  // A dotted quad of decimal numbers 0-255, the first 127; nothing else is an address.
  int values[4] = {};
  for (int i = 0; i < 4; ++i) {
    const std::size_t end = i < 3 ? host.find('.') : host.size();
    if (end == std::string_view::npos) return false;
    const std::string_view part = host.substr(0, end);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    std::from_chars(part.data(), part.data() + part.size(), values[i]);
    if (values[i] > 255) return false;
    host.remove_prefix(i < 3 ? end + 1 : end);
  }
  return values[0] == 127;
}

}  // namespace fleet
