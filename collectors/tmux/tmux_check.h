// TmuxCheck: is every expected Hermes chat (BURN, BURN2, FORGE...) alive in the operator's
// tmux server? An expected name matches a session or a window (on real nodes FORGE is a
// window of BURN). Talks to the server with the tmux CLI (`-S socket`, `-F` formats) under
// the check's deadline (one `list-panes -a` call). CRITICAL: no server, a name missing, a
// dead pane; WARNING: a window with no output for longer than idle_warning; UNKNOWN when we
// cannot look (the socket belongs to a user we may not talk to, tmux missing or hung).
// A name found as a session is judged by all its panes, as a window by that window's.
// Trust: a tmux client obeys its server (it will open files and run programs when told),
// so the check talks only to a socket that is provably the Hermes user's (TrustProblem)
// and runs the client as that user; root drops to it first (Os::RunProgramAs).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/collector.h"

namespace fleet {

struct TmuxOptions {
  std::string socket;  // empty: $TMUX_TMPDIR (else /tmp)/tmux-<hermes uid>/default
  std::vector<std::string> expect{"BURN", "BURN2", "FORGE"};
  std::chrono::seconds idle_warning{30 * 60};  // 0: never warn about idle panes
};

// Why a tmux socket is not provably `expected`'s, from lstat of it and of its directory
// (nullptr: the directory is gone): a symlink at either, a directory of another owner or
// writable by group or others, a socket of another owner. nullopt when it may be trusted.
// Others may read or enter the directory: that lets them connect, not swap the socket.
std::optional<std::string> TrustProblem(const FileInfo& socket, const FileInfo* directory,
                                        const std::string& directory_path, uid_t expected,
                                        const std::function<std::string(uid_t)>& name_of);

// Why a directory above the socket's lets someone else swap it: owned by neither root nor
// `expected`, or writable by group or others without the sticky bit (/tmp is fine).
std::optional<std::string> AncestorProblem(const FileInfo& ancestor, const std::string& path,
                                           uid_t expected,
                                           const std::function<std::string(uid_t)>& name_of);

// The socket the check talks to when none is configured.
std::string DefaultTmuxSocket(const Os& os, const HermesTarget& hermes);

std::unique_ptr<Collector> MakeTmuxCheck(TmuxOptions options);

}  // namespace fleet
