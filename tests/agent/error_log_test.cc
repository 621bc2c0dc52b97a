// The daemon's repeating-error log: once per error while it repeats, numbers aside.
#include "agent/daemon/error_log.h"

#include <doctest/doctest.h>

namespace fleet {
namespace {

TEST_CASE("an error repeating with other numbers is the same error, counted") {
  RepeatingErrorLog log;
  log.Report("push", "Failed to connect to 127.0.0.1 port 59109 after 0 ms");
  log.Report("push", "Failed to connect to 127.0.0.1 port 59109 after 13 ms");
  log.Report("push", "Failed to connect to 127.0.0.1 port 59109 after 2 ms");
  CHECK(log.repeats("push") == 3);
  log.Report("push", "HTTP 500 from the receiver");  // another error starts a new count
  CHECK(log.repeats("push") == 1);
  log.Report("history", "disk full");
  CHECK(log.repeats("history") == 1);
  CHECK(log.repeats("push") == 1);
  log.Clear("push");
  CHECK(log.repeats("push") == 0);
}

TEST_CASE("the shape of a message masks each run of digits") {
  CHECK(RepeatingErrorLog::Shape("after 120 ms, 3 tries") == "after # ms, # tries");
  CHECK(RepeatingErrorLog::Shape("") == "");
  CHECK(RepeatingErrorLog::Shape("no digits") == "no digits");
  CHECK(RepeatingErrorLog::Shape("v1.2.3") == "v#.#.#");
}

}  // namespace
}  // namespace fleet
