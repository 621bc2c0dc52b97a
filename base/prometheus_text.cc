#include "base/prometheus_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace fleet {
namespace {

std::string EscapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendLabels(std::string& out, const MetricLabels& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    out += EscapeLabelValue(value);
    out += '"';
  }
  if (!le.empty()) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void AppendLine(std::string& out, std::string_view name, const MetricLabels& labels, double value,
                std::string_view le = {}) {
  out += name;
  AppendLabels(out, labels, le);
  out += ' ';
  out += FormatMetricValue(value);
  out += '\n';
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

bool ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[40];
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  // The shortest of 15 to 17 digits that reads back as the same double.
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::string RenderExposition(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const MetricFamily& family : families) {
    out += "# HELP " + family.name + " " + EscapeHelp(family.help) + "\n";
    out += "# TYPE " + family.name + " " + TypeName(family.type) + "\n";
    if (family.type != MetricType::kHistogram) {
      for (const MetricSample& sample : family.samples) {
        AppendLine(out, family.name, sample.labels, sample.value);
      }
      continue;
    }
    for (const HistogramSample& h : family.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < h.bounds.size(); ++i) {
        if (i < h.counts.size()) cumulative += h.counts[i];
        AppendLine(out, family.name + "_bucket", h.labels, static_cast<double>(cumulative),
                   FormatMetricValue(h.bounds[i]));
      }
      for (std::size_t i = h.bounds.size(); i < h.counts.size(); ++i) cumulative += h.counts[i];
      AppendLine(out, family.name + "_bucket", h.labels, static_cast<double>(cumulative), "+Inf");
      AppendLine(out, family.name + "_sum", h.labels, h.sum);
      AppendLine(out, family.name + "_count", h.labels, static_cast<double>(cumulative));
    }
  }
  return out;
}

void LatencyHistogram::Observe(std::chrono::nanoseconds elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  const auto ns = elapsed.count() > 0 ? static_cast<std::uint64_t>(elapsed.count()) : 0;
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

HistogramSample LatencyHistogram::Snapshot(MetricLabels labels) const {
  HistogramSample out;
  out.labels = std::move(labels);
  out.bounds.assign(kLatencyBounds.begin(), kLatencyBounds.end());
  for (const auto& count : counts_) out.counts.push_back(count.load(std::memory_order_relaxed));
  out.sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return out;
}

}  // namespace fleet
