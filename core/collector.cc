#include "core/collector.h"

#include <algorithm>

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

namespace {

// Why `path` (an absolute path, each component lstat'ed) is not to be trusted: below a
// directory others may write to (like /tmp), every directory and the entry itself must be
// the Hermes user's or root's, or any local user could have planted them. nullopt when the
// path passes through no such directory, or everything below it is trusted.
std::optional<std::string> SharedDirectoryProblem(const Os& os, const HermesTarget& hermes,
                                                  const std::string& path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::string shared;  // the first directory others may write to, once passed
  std::string at;
  std::size_t from = 1;
  while (from <= path.size()) {
    const std::size_t slash = std::min(path.find('/', from), path.size());
    if (slash > from) {
      const std::string parent = at.empty() ? "/" : at;
      at += "/" + path.substr(from, slash - from);
      if (shared.empty()) {
        auto dir = os.Stat(parent, /*follow=*/false);
        if (dir && dir->has_value() && ((*dir)->mode & 0002) != 0) shared = parent;
      }
      if (!shared.empty()) {
        auto entry = os.Stat(at, /*follow=*/false);
        if (!entry || !entry->has_value()) return std::nullopt;  // missing: the caller says so
        const uid_t owner = (*entry)->owner;
        if (owner != 0 && owner != hermes.user.uid) {
          auto who = os.UserById(owner);
          return at + " is below " + shared + ", which any local user may write to, and is " +
                 "owned by " + (who ? who->name : "uid " + std::to_string(owner)) +
                 ", not by the Hermes user " +
                 (hermes.user.name.empty() ? "uid " + std::to_string(hermes.user.uid)
                                           : hermes.user.name) +
                 " or root";
        }
      }
    }
    from = slash + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<FileRefusal> RefuseUntrustedFile(const Os& os, const HermesTarget& hermes,
                                               const std::string& path) {
  if (IsHermesSecretFile(path)) return FileRefusal{"it is a Hermes secret file", true};
  // The path as written (a planted symlink or directory on the way), then what it
  // resolves to.
  if (auto problem = SharedDirectoryProblem(os, hermes, path)) return FileRefusal{*problem};
  auto real = os.RealPath(path);
  if (!real || !real->has_value()) return std::nullopt;
  const std::string& target = **real;
  if (IsHermesSecretFile(target)) {
    return FileRefusal{"it resolves to " + target + ", a Hermes secret file", true};
  }
  if (auto problem = SharedDirectoryProblem(os, hermes, target)) return FileRefusal{*problem};
  return std::nullopt;
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
