// The guard every daemon thread runs in: a throw is logged with the thread's name and
// reported to the fatal handler; a normal return is not.
#include "agent/logging/thread_guard.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <stdexcept>

namespace fleet {
namespace {

struct CapturedLog {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  CapturedLog() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous); }
};

TEST_CASE("a std::exception is logged and reported with the thread name and what()") {
  CapturedLog log;
  int calls = 0;
  std::string reported;
  RunGuarded(
      "pusher", [] { throw std::runtime_error("spool vanished"); },
      [&](const std::string& message) {
        ++calls;
        reported = message;
      });
  CHECK(calls == 1);
  CHECK(reported.find("pusher") != std::string::npos);
  CHECK(reported.find("spool vanished") != std::string::npos);
  CHECK(log.out.str().find("thread pusher failed: spool vanished") != std::string::npos);
}

TEST_CASE("an exception that is not a std::exception is logged and reported too") {
  CapturedLog log;
  int calls = 0;
  std::string reported;
  RunGuarded(
      "check disk", [] { throw 42; },
      [&](const std::string& message) {
        ++calls;
        reported = message;
      });
  CHECK(calls == 1);
  CHECK(reported.find("check disk") != std::string::npos);
  CHECK(reported.find("not std::exception") != std::string::npos);
  CHECK(log.out.str().find("thread check disk failed") != std::string::npos);
}

TEST_CASE("a body that returns normally runs once and never calls the fatal handler") {
  CapturedLog log;
  int runs = 0;
  int calls = 0;
  RunGuarded(
      "main loop", [&] { ++runs; }, [&](const std::string&) { ++calls; });
  CHECK(runs == 1);
  CHECK(calls == 0);
  CHECK(log.out.str().empty());
}

}  // namespace
}  // namespace fleet
