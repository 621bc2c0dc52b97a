// MetricsSection: the `metrics:` keys of the configuration, `metrics: {listen: 127.0.0.1:9464}`:
// the address `fleet-agent run` serves GET /metrics on (Prometheus text, agent/metrics/). No
// section, no server; `metrics: {}` listens on 127.0.0.1:9464. `listen` is a literal address and a
// port, "a.b.c.d:port" or
// "[v6]:port" (no host name: what it would resolve to is not what the file says); port 1-65535.
// Only loopback is meant (127.0.0.0/8, ::1): another address is taken because it is written out
// (README warns that the series then reach whoever can connect). Part of ParseConfig.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/config/config_schema.h"

namespace fleet::config {

inline constexpr std::string_view kDefaultMetricsListen = "127.0.0.1:9464";

struct ListenAddress {
  std::string host;  // the address as written, without brackets
  std::uint16_t port = 0;
  bool v6 = false;
  bool loopback = false;
};

// nullopt and `why` set when the text is not a literal address with a port.
std::optional<ListenAddress> ParseListenAddress(std::string_view text, std::string& why);

// Reads `metrics:` (a map, `listen` in it or kDefaultMetricsListen) into `listen` (left empty
// when there is no section: no server).
ValueReader MetricsSection(std::string& listen);

}  // namespace fleet::config
