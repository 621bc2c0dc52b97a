#include "collectors/tmux/tmux_parse.h"

#include <charconv>

namespace fleet {
namespace {

constexpr std::size_t kFieldCount = 12;

// tmux's s/regex/replacement/ modifier: every control character in a text field becomes
// '?', so no name can forge a separator or a line break.
std::string Clean(std::string_view variable) {
  return "#{s/[\x01-\x1f\x7f]/?/:" + std::string(variable) + "}";
}

std::vector<std::string_view> Split(std::string_view line, char separator) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = line.find(separator, start);
    if (end == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
}

template <typename Int>
bool ToInt(std::string_view text, Int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool ToFlag(std::string_view text, bool& out) {
  if (text != "0" && text != "1") return false;
  out = text == "1";
  return true;
}

// Empty (tmux leaves it so for a live pane, or an old tmux lacks the variable) or a number.
bool ToOptionalInt(std::string_view text, std::optional<int>& out) {
  if (text.empty()) return true;
  int value = 0;
  if (!ToInt(text, value)) return false;
  out = value;
  return true;
}

Result<TmuxPane> ParseLine(std::string_view line) {
  std::vector<std::string_view> f = Split(line, kTmuxFieldSeparator);
  if (f.size() != kFieldCount) {
    return Error{"expected " + std::to_string(kFieldCount) + " fields, got " +
                 std::to_string(f.size())};
  }
  TmuxPane pane;
  pane.session = ValidUtf8(f[0]);
  pane.window_name = ValidUtf8(f[2]);
  pane.current_command = ValidUtf8(f[11]);
  if (pane.session.empty()) return Error{"empty session name"};
  if (!ToInt(f[1], pane.window_index)) return Error{"bad window index"};
  if (!ToFlag(f[3], pane.window_active)) return Error{"bad window_active"};
  if (!ToInt(f[4], pane.window_activity)) return Error{"bad window_activity"};
  if (!ToInt(f[5], pane.pane_index)) return Error{"bad pane index"};
  if (!ToFlag(f[6], pane.pane_active)) return Error{"bad pane_active"};
  if (!ToInt(f[7], pane.pid)) return Error{"bad pane_pid"};
  if (!ToFlag(f[8], pane.dead)) return Error{"bad pane_dead"};
  if (!ToOptionalInt(f[9], pane.dead_status)) return Error{"bad pane_dead_status"};
  if (!ToOptionalInt(f[10], pane.dead_signal)) return Error{"bad pane_dead_signal"};
  return pane;
}

// Length of the valid UTF-8 sequence at the start of `s`, 0 when it is not one.
std::size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  if (c < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

std::string TmuxPane::WindowTarget() const { return session + ":" + std::to_string(window_index); }

std::string TmuxPane::PaneTarget() const {
  return WindowTarget() + "." + std::to_string(pane_index);
}

const std::string& TmuxPanesFormat() {
  static const std::string kFormat = [] {
    const std::string sep(1, kTmuxFieldSeparator);
    return Clean("session_name") + sep + "#{window_index}" + sep + Clean("window_name") + sep +
           "#{window_active}" + sep + "#{window_activity}" + sep + "#{pane_index}" + sep +
           "#{pane_active}" + sep + "#{pane_pid}" + sep + "#{pane_dead}" + sep +
           "#{pane_dead_status}" + sep + "#{pane_dead_signal}" + sep +
           Clean("pane_current_command");
  }();
  return kFormat;
}

Result<std::vector<TmuxPane>> ParseTmuxPanes(std::string_view output) {
  std::vector<TmuxPane> panes;
  if (output.empty()) return panes;
  if (output.back() != '\n') return Error{"tmux output truncated (no final newline)"};
  output.remove_suffix(1);
  std::size_t number = 0;
  for (std::string_view line : Split(output, '\n')) {
    ++number;
    Result<TmuxPane> pane = ParseLine(line);
    if (!pane.ok()) {
      return Error{"tmux output line " + std::to_string(number) + ": " + pane.error()};
    }
    panes.push_back(std::move(pane).value());
  }
  return panes;
}

bool IsChatCommandLine(std::string_view cmdline) {
  bool chat = false;
  bool yolo = false;
  std::size_t start = 0;
  while (start < cmdline.size()) {
    std::size_t end = cmdline.find_first_of(std::string_view("\0 \t\n", 4), start);
    if (end == std::string_view::npos) end = cmdline.size();
    std::string_view word = cmdline.substr(start, end - start);
    chat = chat || word == "chat";
    yolo = yolo || word == "--yolo";
    start = end + 1;
  }
  return chat && yolo;
}

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    std::size_t length = Utf8SequenceLength(text);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      text.remove_prefix(1);
    } else {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
  return out;
}

}  // namespace fleet
