#include "base/yaml_text.h"

#include <algorithm>
#include <cstdio>
#include <optional>

namespace fleet {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Offset of the first byte that does not start a valid UTF-8 sequence (no overlongs,
// surrogates or code points above U+10FFFF), or npos.
std::size_t FindInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned char min_second = 0x80;
    unsigned char max_second = 0xBF;
    if (c < 0x80) {
      length = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) min_second = 0xA0;  // overlong
      if (c == 0xED) max_second = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) min_second = 0x90;  // overlong
      if (c == 0xF4) max_second = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (!IsContinuation(next)) return i;
      if (k == 1 && (next < min_second || next > max_second)) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

std::string Hex(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", c);
  return buf;
}

std::optional<TextProblem> FindControlByte(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return TextProblem{i, "NUL byte: this is a binary file, not YAML text"};
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      return TextProblem{i, "control character " + Hex(c) + " is not allowed in YAML text"};
    }
  }
  return std::nullopt;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Walks the text once, following quotes, comments, flow brackets and block indentation
// well enough to bound the nesting depth the parser would recurse into. It may
// under-count odd but valid YAML; it never over-counts a normal configuration.
class NestingScanner {
 public:
  NestingScanner(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  void Run(std::vector<TextProblem>& problems) {
    std::size_t pos = 0;
    while (pos < text_.size() && !deep_) {
      std::size_t end = std::min(text_.find('\n', pos), text_.size());
      ScanLine(pos, text_.substr(pos, end - pos), problems);
      pos = end + 1;
    }
  }

 private:
  void ScanLine(std::size_t start, std::string_view line, std::vector<TextProblem>& problems) {
    std::size_t i = 0;
    if (quote_ == 0 && flow_ == 0) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      const std::size_t tab = line.substr(0, i).find('\t');
      const bool blank = i == line.size() || line[i] == '\r';
      if (tab != std::string_view::npos && !blank) {
        problems.push_back({start + tab, "tab in indentation (YAML indents with spaces only)"});
      }
      if (!blank && line[i] != '#') {
        while (!indents_.empty() && indents_.back() > i) indents_.pop_back();
        if (indents_.empty() || indents_.back() < i) indents_.push_back(i);
        block_ = static_cast<int>(indents_.size());
        if (TooDeep(block_, start + i, problems)) return;
      }
    }
    int compact = 0;  // "- - x", "- a: [..." open levels on this line
    bool value_start = true;
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if (quote_ == '\'') {
        if (c == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
        } else if (c == '\'') {
          quote_ = 0;
        }
        continue;
      }
      if (quote_ == '"') {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quote_ = 0;
        }
        continue;
      }
      if (IsBlank(c)) continue;
      const bool spaced = i + 1 >= line.size() || IsBlank(line[i + 1]);
      if (c == '#' && (i == 0 || IsBlank(line[i - 1]))) return;
      if ((c == '-' || c == '?' || c == ':') && spaced) {
        if (c != ':' && value_start && flow_ == 0) ++compact;
        if (TooDeep(block_ + compact + flow_, start + i, problems)) return;
        value_start = true;
      } else if ((c == '&' || c == '!') && value_start) {
        while (i + 1 < line.size() && !IsBlank(line[i + 1])) ++i;  // anchor or tag
      } else if ((c == '[' || c == '{') && (value_start || flow_ > 0)) {
        ++flow_;
        if (TooDeep(block_ + compact + flow_, start + i, problems)) return;
        value_start = true;
      } else if ((c == ']' || c == '}') && flow_ > 0) {
        --flow_;
        value_start = false;
      } else if (c == ',' && flow_ > 0) {
        value_start = true;
      } else if ((c == '\'' || c == '"') && value_start) {
        quote_ = c;
        value_start = false;
      } else {
        value_start = false;
      }
    }
  }

  bool TooDeep(int depth, std::size_t offset, std::vector<TextProblem>& problems) {
    if (depth <= max_depth_) return false;
    problems.push_back({offset, "nesting deeper than " + std::to_string(max_depth_) +
                                    " levels (a configuration needs a handful); not parsed"});
    deep_ = true;
    return true;
  }

  std::string_view text_;
  int max_depth_;
  std::vector<std::size_t> indents_;
  int block_ = 0;
  int flow_ = 0;
  char quote_ = 0;
  bool deep_ = false;
};

}  // namespace

LineIndex::LineIndex(std::string_view text) : text_(text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") bom_ = 3;
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') line_starts_.push_back(i + 1);
  }
}

TextPosition LineIndex::AtOffset(std::size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const std::size_t line = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
  std::size_t from = line_starts_[line];
  if (line == 0) from = std::min(bom_, offset);
  int column = 1;
  for (std::size_t i = from; i < offset; ++i) {
    if (!IsContinuation(static_cast<unsigned char>(text_[i]))) ++column;
  }
  return {static_cast<int>(line) + 1, column};
}

TextPosition LineIndex::AtMark(int line, int byte_column) const {
  if (line < 0) return {};
  if (static_cast<std::size_t>(line) >= line_starts_.size()) {
    return AtOffset(text_.size());
  }
  std::size_t start = line_starts_[static_cast<std::size_t>(line)];
  if (line == 0) start = bom_;
  const std::size_t next = static_cast<std::size_t>(line) + 1 < line_starts_.size()
                               ? line_starts_[static_cast<std::size_t>(line) + 1]
                               : text_.size() + 1;
  const std::size_t offset = start + static_cast<std::size_t>(std::max(byte_column, 0));
  if (offset >= next) {  // past the line's end: count the overhang as plain characters
    TextPosition end = AtOffset(next - 1);
    end.column += static_cast<int>(offset - (next - 1));
    return end;
  }
  return AtOffset(offset);
}

std::vector<TextProblem> FindTextProblems(std::string_view text, int max_depth) {
  std::vector<TextProblem> problems;
  if (auto control = FindControlByte(text)) problems.push_back(*control);
  if (std::size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    problems.push_back({bad, "invalid UTF-8 (byte " + Hex(static_cast<unsigned char>(text[bad])) +
                                 "); save the file as UTF-8 text"});
  }
  NestingScanner(text, max_depth).Run(problems);
  return problems;
}

}  // namespace fleet
