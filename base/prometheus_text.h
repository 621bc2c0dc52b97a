// Prometheus text exposition (format 0.0.4): metric families as values, rendered by a pure
// function, and the cells the programs count in. RenderExposition writes, per family, its
// `# HELP` (backslash and newline escaped) and `# TYPE` lines, then its samples; a label value is
// escaped (backslash, double quote, newline), numbers are written so a parser reads them back
// exactly (integers without exponent, +Inf/-Inf/NaN by name). A histogram sample is rendered
// as `<name>_bucket{...,le="b"}` per bound, cumulative, then `le="+Inf"`, `<name>_sum` and
// `<name>_count` (equal to the +Inf bucket). Names and label names are the caller's and must
// match [a-zA-Z_:][a-zA-Z0-9_:]* (ValidMetricName); counter names end in `_total`.
// LatencyHistogram keeps bucket counts and the sum in atomics (no lock: Observe is a few
// relaxed increments, for the hot paths); its Snapshot may be torn across cells by a concurrent
// Observe, and it repairs that by taking the count as the sum of its buckets.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleet {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

struct MetricSample {
  MetricLabels labels;
  double value = 0;
};

struct HistogramSample {
  MetricLabels labels;
  std::vector<double> bounds;         // upper bounds, increasing, +Inf implied
  std::vector<std::uint64_t> counts;  // per bucket, NOT cumulative: bounds.size() + 1 (last: +Inf)
  double sum = 0;
};

struct MetricFamily {
  std::string name;  // histogram: the base name, without _bucket/_sum/_count
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<MetricSample> samples;        // counter, gauge
  std::vector<HistogramSample> histograms;  // histogram
};

// The exposition's Content-Type.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

bool ValidMetricName(std::string_view name);
std::string EscapeLabelValue(std::string_view value);
std::string FormatMetricValue(double value);
std::string RenderExposition(const std::vector<MetricFamily>& families);

// Seconds buckets for latencies from 0.5 ms to 10 s.
inline constexpr std::array<double, 12> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                          0.05,   0.1,   0.25,   0.5,   1,    10};

class LatencyHistogram {
 public:
  void Observe(std::chrono::nanoseconds elapsed);
  HistogramSample Snapshot(MetricLabels labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, kLatencyBounds.size() + 1> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace fleet
