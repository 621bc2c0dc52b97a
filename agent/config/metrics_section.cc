#include "agent/config/metrics_section.h"

#include <arpa/inet.h>

#include <charconv>

namespace fleet::config {

std::optional<ListenAddress> ParseListenAddress(std::string_view text, std::string& why) {
  ListenAddress out;
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      why = "must be [v6-address]:port";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    out.v6 = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      why = "must be address:port (an IPv6 address in brackets: [::1]:9464)";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  const std::string host_text(host);
  unsigned char bytes[16];
  if (inet_pton(out.v6 ? AF_INET6 : AF_INET, host_text.c_str(), bytes) != 1) {
    why = "'" + host_text + "' is not a literal " + (out.v6 ? "IPv6" : "IPv4") +
          " address (names are not taken)";
    return std::nullopt;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    why = "port must be 1-65535";
    return std::nullopt;
  }
  out.host = host_text;
  out.port = static_cast<std::uint16_t>(value);
  static const unsigned char kV6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  out.loopback = out.v6 ? std::equal(bytes, bytes + 16, kV6Loopback) : bytes[0] == 127;
  return out;
}

ValueReader MetricsSection(std::string& listen) {
  ValueReader keys =
      Nested({{"listen",
               [&listen](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
                 auto text = ReadScalar(reader, value, path, "an address:port");
                 if (!text) return;
                 std::string why;
                 if (!ParseListenAddress(*text, why)) {
                   reader.AddError(value, path + " " + why + " (got '" + *text + "')");
                   return;
                 }
                 listen = *text;
               }}});
  return [&listen, keys = std::move(keys)](ConfigReader& reader, const YAML::Node& value,
                                           const std::string& path) {
    if (value.IsMap()) listen = std::string(kDefaultMetricsListen);  // `metrics: {}`
    keys(reader, value, path);
  };
}

}  // namespace fleet::config
