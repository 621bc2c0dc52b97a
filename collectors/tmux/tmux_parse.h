// TmuxPanes: the pure half of the tmux check. TmuxPanesFormat() is the `-F` format given
// to `tmux list-panes -a`; ParseTmuxPanes reads that command's output back, one pane per
// line, fields separated by \x1f. Window names may hold any byte (tabs, newlines, \x1f),
// so the format has tmux replace control characters in every text field with '?': the
// separator and newline can then only be ours. Output that does not end in a newline is
// truncated and refused. Text fields come back as valid UTF-8 (bad bytes become U+FFFD).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace fleet {

inline constexpr char kTmuxFieldSeparator = '\x1f';

struct TmuxPane {
  std::string session;
  int window_index = 0;
  std::string window_name;
  bool window_active = false;
  std::int64_t window_activity = 0;  // epoch seconds of the window's last output
  int pane_index = 0;
  bool pane_active = false;
  std::int64_t pid = 0;  // the first process in the pane
  bool dead = false;
  std::optional<int> dead_status;  // exit status of a dead pane, when it exited
  std::optional<int> dead_signal;  // signal that killed a dead pane's process
  std::string current_command;

  // "BURN:1" and "BURN:1.0", as tmux -t accepts them.
  std::string WindowTarget() const;
  std::string PaneTarget() const;
};

// The argument for `tmux list-panes -a -F`.
const std::string& TmuxPanesFormat();

Result<std::vector<TmuxPane>> ParseTmuxPanes(std::string_view output);

// True when a /proc/<pid>/cmdline (NUL-separated arguments) is a Hermes chat: among its
// arguments, split on NULs and blanks so `sh -c "hermes chat --yolo"` counts, are the
// words `chat` and `--yolo`.
bool IsChatCommandLine(std::string_view cmdline);

// `text` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string ValidUtf8(std::string_view text);

}  // namespace fleet
