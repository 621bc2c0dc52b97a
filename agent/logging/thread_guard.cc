#include "agent/logging/thread_guard.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <exception>

namespace fleet {

void RunGuarded(std::string_view name, const std::function<void()>& body,
                const std::function<void(const std::string& message)>& on_fatal) {
  std::string message;
  try {
    body();
    return;
  } catch (const std::exception& e) {
    message = "thread " + std::string(name) + " failed: " + e.what();
  } catch (...) {
    message = "thread " + std::string(name) + " failed: an exception that is not std::exception";
  }
  spdlog::error("{}", message);
  on_fatal(message);
}

void ExitOnFatal(const std::string& message) {
  spdlog::critical("exiting with code {} after a fatal error: {}", kFatalExitCode, message);
  spdlog::shutdown();
  std::_Exit(kFatalExitCode);
}

}  // namespace fleet
