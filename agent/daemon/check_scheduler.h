// CheckScheduler: runs the daemon's checks on its event loop as CheckRuns plans them: one
// steady timer wakes the loop when a check is due or a run's deadline passes; each run
// executes its collector on a worker thread of its own (RunGuarded: a throw that escapes
// the collector's own guard ends the process with a log line) and posts its result back
// to the loop. Every answer (a result in time, or the UNKNOWN of a run that did not answer)
// reaches `on_answer` on the loop's thread, in the order given. Configure replaces the
// checks (a reload); Stop starts nothing more. A worker stuck in a collector keeps its
// shared state alive (collector, Os, Hermes target) after a reload; InFlight() counts
// them, so the daemon knows at exit whether a worker still runs.
#pragma once

#include <utility>  // before Asio: Boost 1.74 Asio under C++20 needs std::exchange

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "agent/config/config.h"
#include "agent/daemon/check_runs.h"
#include "core/collector.h"
#include "core/os.h"

namespace fleet {

class CheckScheduler {
 public:
  using OnAnswer = std::function<void(CheckResult)>;

  CheckScheduler(boost::asio::io_context& io, std::shared_ptr<const Os> os, OnAnswer on_answer);

  // The enabled built-in checks of `config`, each due at once.
  void Configure(const AgentConfig& config, std::shared_ptr<const HermesTarget> hermes);
  void Stop();
  // Runs `check` again at once, or as soon as its current run ends (CheckRuns::RunSoon).
  void RunSoon(const std::string& check);

  bool AllAnswered() const { return runs_.AllAnswered(); }
  bool Has(const std::string& check) const { return runs_.Has(check); }
  std::size_t size() const { return runs_.size(); }
  int InFlight() const { return in_flight_->load(); }

 private:
  void Wake();
  void Begin(const CheckRuns::Start& start);
  void OnFinished(const std::string& check, std::uint64_t run, CheckResult result);

  boost::asio::io_context& io_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<const Os> os_;
  OnAnswer on_answer_;
  std::shared_ptr<const HermesTarget> hermes_;
  std::map<std::string, std::shared_ptr<Collector>> collectors_;
  CheckRuns runs_;
  std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
  bool stopped_ = false;
};

}  // namespace fleet
