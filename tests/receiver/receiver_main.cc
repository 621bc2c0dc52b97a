// main() of receiver_tests (instead of tests/support/doctest_main.cc): without a PostgreSQL
// server at FLEET_TEST_PG_URL the <postgres> store cases and the "postgres" suite are left
// out, and the output says so and why (under FLEET_NO_SKIP: a failure).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "tests/receiver/store_factory.h"
#include "tests/support/skip.h"

int main(int argc, char** argv) {
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  if (const auto& why = fleet::receiver::testing::PgUnavailable()) {
    if (fleet::testing::SkipIsFailure()) {
      std::printf(
          "FAILED: FLEET_NO_SKIP is set (the test command) but the PostgreSQL store "
          "tests cannot run: %s\n",
          why->c_str());
      return 1;
    }
    std::printf("SKIPPED: the PostgreSQL store tests (<postgres> cases, suite postgres): %s\n",
                why->c_str());
    context.addFilter("test-case-exclude", "*<postgres>");
    context.addFilter("test-suite-exclude", "postgres");
  }
  return context.run();
}
