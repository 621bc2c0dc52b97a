// Fail closed for the daemon's threads.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace fleet {

// Exit code of a daemon that lost a thread to an exception: 70, EX_SOFTWARE from
// sysexits.h ("internal software error"), so systemd (Restart=on-failure) restarts it.
inline constexpr int kFatalExitCode = 70;

// Contract: RunGuarded runs `body` on the calling thread. If body returns, that is all,
// and on_fatal is never called. If body throws anything, RunGuarded logs one spdlog error
// line "thread <name> failed: <what>" (what() for a std::exception, a fixed phrase for
// anything else), then calls on_fatal with that same message; no exception leaves
// RunGuarded. Wrap every daemon thread body (and the main loop) in it, with
// ExitOnFatal as the handler in production, so a throwing thread is never a silent
// death nor a std::terminate without a log line. Errors between modules stay values;
// this is only the last line of defence.
void RunGuarded(std::string_view name, const std::function<void()>& body,
                const std::function<void(const std::string& message)>& on_fatal);

// The production fatal handler: logs the message, flushes the logs and leaves the
// process at once with std::_Exit(kFatalExitCode) (no destructors run under other
// threads' feet).
[[noreturn]] void ExitOnFatal(const std::string& message);

}  // namespace fleet
