// YamlText: what the configuration reader checks on the raw bytes before yaml-cpp sees
// them, and how it turns positions into what an editor shows. yaml-cpp accepts invalid
// UTF-8 and NUL bytes quietly and parses nesting recursively (a file of 100k '[' is a deep
// call stack), so FindTextProblems refuses those up front, each with the byte offset where
// it starts. LineIndex maps yaml-cpp marks (0-based line, byte column, after a UTF-8 BOM)
// and byte offsets to 1-based line:column counted in characters. Pure; no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fleet {

struct TextPosition {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in characters
};

class LineIndex {
 public:
  explicit LineIndex(std::string_view text);

  TextPosition AtOffset(std::size_t offset) const;
  // yaml-cpp's Mark: 0-based line and byte column (the BOM is not counted).
  TextPosition AtMark(int line, int byte_column) const;

 private:
  std::string_view text_;
  std::size_t bom_ = 0;
  std::vector<std::size_t> line_starts_;
};

struct TextProblem {
  std::size_t offset = 0;
  std::string message;
};

// NUL and other control bytes, invalid UTF-8 (first occurrence of each), tabs in
// indentation (every line), nesting deeper than max_depth (first place). Empty when the
// text may be handed to the parser.
std::vector<TextProblem> FindTextProblems(std::string_view text, int max_depth);

}  // namespace fleet
