#include "agent/core/collector.h"

namespace fleet {

std::string ResolveInHome(const HermesTarget& hermes, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  if (hermes.home.empty()) return path;
  if (hermes.home.back() == '/') return hermes.home + path;
  return hermes.home + "/" + path;
}

bool IsHermesSecretFile(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return base == "auth.json" || base == ".env" || base == "config.yaml";
}

std::string DisplayPath(const HermesTarget& hermes, const std::string& path) {
  const std::string& home = hermes.user.home;
  if (home.size() > 1 && path.size() > home.size() && path.compare(0, home.size(), home) == 0 &&
      path[home.size()] == '/') {
    return "~" + path.substr(home.size());
  }
  return path;
}

}  // namespace fleet
