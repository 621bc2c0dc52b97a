// Text helpers every side needs. TruncateUtf8 cuts free text (a summary, an error, a job
// name) to a byte budget without splitting a UTF-8 character, "..." appended when it cuts.
// Pure; never throws beyond std::bad_alloc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fleet {

// At most max_bytes of the text (plus "..." when cut), cut at a character boundary.
std::string TruncateUtf8(std::string_view text, std::size_t max_bytes);

}  // namespace fleet
