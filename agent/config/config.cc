// Placeholder until the YAML reader lands: embedded defaults only.
#include "agent/config/config.h"

namespace fleet {

std::string ConfigError::ToString() const {
  if (line > 0) {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  }
  return file + ": " + message;
}

AgentConfig DefaultConfig() {
  AgentConfig config;
  for (const auto& name : BuiltinCheckNames()) config.settings[name] = CheckSettings{};
  return config;
}

ConfigLoad ParseConfig(std::string_view, const std::string&) { return {DefaultConfig(), {}}; }

ConfigLoad LoadConfigFile(const std::string& path) { return ParseConfig("", path); }

}  // namespace fleet
