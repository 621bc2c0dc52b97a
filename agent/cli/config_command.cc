#include "agent/cli/config_command.h"

#include <vector>

#include "agent/config/alert_secrets.h"
#include "agent/config/config.h"

namespace fleet {
namespace {

std::string Count(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

int Invalid(const std::string& file, std::size_t errors, std::ostream& err) {
  err << file << ": invalid (" << Count(errors, "error") << ")\n";
  return 1;
}

}  // namespace

int RunConfigCheck(const std::string& file, const Os& os, std::ostream& out, std::ostream& err,
                   bool read_secrets) {
  ConfigLoad load = LoadConfigFile(file, os);
  if (!load.config) {
    for (const auto& e : load.errors) err << e.ToString() << "\n";
    return Invalid(file, load.errors.size(), err);
  }
  std::vector<std::string> unchecked;
  if (read_secrets && load.config->alerts.enabled()) {
    const std::string credentials = os.GetEnv("CREDENTIALS_DIRECTORY").value_or("");
    AlertSecretsCheck check = CheckAlertSecrets(load.config->alerts, os, credentials);
    for (const auto& e : check.errors) err << file << ": " << e << "\n";
    for (const auto& w : check.secrets.warnings) err << file << ": warning: " << w << "\n";
    for (const auto& u : check.unchecked) err << file << ": not checked: " << u << "\n";
    if (!check.errors.empty()) return Invalid(file, check.errors.size(), err);
    unchecked = std::move(check.unchecked);
  }
  out << file << ": valid";
  if (!read_secrets && load.config->alerts.enabled()) out << " (secrets not read: --no-secrets)";
  if (!unchecked.empty()) {
    out << " (" << Count(unchecked.size(), "secret") << " not checked as this user)";
  }
  out << "\n";
  return 0;
}

}  // namespace fleet
