// Text helpers every side needs. TruncateUtf8 cuts free text (a summary, an error, a job
// name) to a byte budget without splitting a UTF-8 character: what it returns, "..."
// included when it cuts, is never longer than the budget (a record field's size limit).
// Pure; never throws beyond std::bad_alloc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fleet {

// The text when it fits in max_bytes; otherwise its start, cut at a character boundary,
// and "...", max_bytes at most in all.
std::string TruncateUtf8(std::string_view text, std::size_t max_bytes);

// True when the bytes are well-formed UTF-8 (no overlong form, no surrogate, nothing past
// U+10FFFF) with no NUL and no control character but tab: text a person typed for a record.
bool IsPlainUtf8Text(std::string_view text);

}  // namespace fleet
