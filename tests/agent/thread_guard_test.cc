// The guard every daemon thread runs in: a throw is logged with the thread's name and
// reported to the fatal handler; a normal return is not.
#include "agent/logging/thread_guard.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/temp_dir.h"

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

TEST_CASE("in production a worker thread that throws ends the process with 70, logged first") {
  testing::TempDir dir;
  const std::string log_file = dir.Path("agent.log");
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The daemon's way: a worker thread under the guard with the production handler.
    std::ofstream file(log_file);
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(file, true);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("child", sink));
    std::thread worker([] {
      RunGuarded(
          "check disk", [] { throw std::runtime_error("statvfs exploded"); }, ExitOnFatal);
    });
    worker.join();
    std::_Exit(0);  // only if the handler let the thread return: the test then fails
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == kFatalExitCode);
  std::ifstream in(log_file);
  const std::string logged{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  CHECK(logged.find("thread check disk failed: statvfs exploded") != std::string::npos);
}

}  // namespace
}  // namespace fleet
