// Skipping what cannot run here: outside the test command a test says SKIPPED and why;
// under it (tests/run-all.sh, so CI, sets FLEET_NO_SKIP=1) a skip is a failure, so a
// green CI run means every real-system test ran.
#pragma once

#include <cstdlib>
#include <string>

namespace fleet::testing {

inline bool SkipIsFailure() {
  const char* value = std::getenv("FLEET_NO_SKIP");
  return value != nullptr && *value != '\0' && std::string(value) != "0";
}

}  // namespace fleet::testing

// Ends the current test case: a visible skip, or a failure under FLEET_NO_SKIP.
#define FLEET_SKIP(reason)                                                       \
  do {                                                                           \
    if (::fleet::testing::SkipIsFailure()) {                                     \
      FAIL("would skip, but FLEET_NO_SKIP is set (the test command): ", reason); \
    }                                                                            \
    MESSAGE("SKIPPED: ", reason);                                                \
    return;                                                                      \
  } while (false)
