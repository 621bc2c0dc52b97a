// TruncateUtf8: free text cut to a field's byte budget, "..." included, never splitting a
// UTF-8 character: short text untouched, exact fits, one byte over, two-, three- and
// four-byte characters at the cut, budgets smaller than the ellipsis, invalid UTF-8.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "base/text.h"

using fleet::TruncateUtf8;

TEST_CASE("text that fits is returned as it is") {
  CHECK(TruncateUtf8("", 10) == "");
  CHECK(TruncateUtf8("gateway down", 12) == "gateway down");
  CHECK(TruncateUtf8("\xC3\xA9t\xC3\xA9", 5) == "\xC3\xA9t\xC3\xA9");  // 5 bytes exactly
}

TEST_CASE("a cut text, ellipsis included, is never longer than the budget") {
  CHECK(TruncateUtf8("gateway down", 11) == "gateway ...");
  CHECK(TruncateUtf8("abcdefghij", 4) == "a...");
  CHECK(TruncateUtf8("abcdefghij", 3) == "...");
  CHECK(TruncateUtf8("abcdefghij", 2) == "..");  // no room even for the ellipsis
  CHECK(TruncateUtf8("abcdefghij", 0) == "");
  for (std::size_t budget = 0; budget < 40; ++budget) {
    const std::string text(100, 'x');
    CAPTURE(budget);
    CHECK(TruncateUtf8(text, budget).size() == budget);
  }
}

TEST_CASE("the cut falls on a character boundary, for characters of every length") {
  // e-acute (2 bytes), a CJK character (3), an emoji (4), repeated.
  for (const std::string ch : {"\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x9A\x80"}) {
    std::string text;
    while (text.size() < 200) text += ch;
    for (std::size_t budget = 3; budget < 60; ++budget) {
      CAPTURE(ch.size());
      CAPTURE(budget);
      const std::string cut = TruncateUtf8(text, budget);
      REQUIRE(cut.size() <= budget);
      REQUIRE(cut.ends_with("..."));
      const std::string kept = cut.substr(0, cut.size() - 3);
      CHECK(kept.size() % ch.size() == 0);          // whole characters only
      CHECK(kept.size() + ch.size() > budget - 3);  // and as many as fit
      // nlohmann's strict dump throws on invalid UTF-8: none was made.
      CHECK_NOTHROW(
          (void)nlohmann::json(cut).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict));
    }
  }
}

TEST_CASE("text that is not UTF-8 is cut anyway, and cannot make the cut run before its start") {
  const std::string continuation_bytes(50, '\x80');  // nothing but continuation bytes
  CHECK(TruncateUtf8(continuation_bytes, 10) == "...");
  CHECK(TruncateUtf8(std::string(50, '\xFF'), 10).size() == 10);
}

TEST_CASE("plain UTF-8 text: what a person typed, nothing else") {
  CHECK(fleet::IsPlainUtf8Text(""));
  CHECK(fleet::IsPlainUtf8Text("restarting the gateway\tnow"));
  CHECK(fleet::IsPlainUtf8Text("Überprüfung läuft \xE2\x9C\x93 \xF0\x9F\x9A\x80"));
  CHECK(!fleet::IsPlainUtf8Text(std::string("a\0b", 3)));
  CHECK(!fleet::IsPlainUtf8Text("line\nbreak"));
  CHECK(!fleet::IsPlainUtf8Text("\x1b[31mred"));
  CHECK(!fleet::IsPlainUtf8Text("\xC0\xAF"));          // overlong '/'
  CHECK(!fleet::IsPlainUtf8Text("\xED\xA0\x80"));      // a surrogate
  CHECK(!fleet::IsPlainUtf8Text("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK(!fleet::IsPlainUtf8Text("cut \xE2\x9C"));      // truncated
  CHECK(!fleet::IsPlainUtf8Text("\xFF"));
  CHECK(!fleet::IsPlainUtf8Text("\xC2\x85"));  // C1 NEL
}
