#include "agent/check/check_runner.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "base/units.h"

namespace fleet {
namespace {

// What a worker thread and the runner share; the worker may outlive the runner.
struct Slot {
  std::mutex mutex;
  std::condition_variable done;
  std::optional<CheckResult> result;
};

constexpr std::chrono::milliseconds kGrace{100};

CheckResult RunGuarded(Collector& collector, const CheckContext& context) {
  const auto started = std::chrono::steady_clock::now();
  CheckResult result;
  try {
    result = collector.Run(context);
  } catch (const std::exception& e) {
    result = MakeResult(collector.Name(), Status::kUnknown,
                        std::string("check failed unexpectedly: ") + e.what());
  } catch (...) {
    result = MakeResult(collector.Name(), Status::kUnknown, "check failed unexpectedly");
  }
  if (result.name.empty()) result.name = collector.Name();
  result.duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace

Status OverallStatus(const std::vector<CheckResult>& results) {
  Status overall = Status::kOk;
  for (const auto& r : results) overall = Worse(overall, r.status);
  return overall;
}

CheckRound RunChecks(const std::vector<ScheduledCheck>& checks, std::shared_ptr<const Os> os,
                     std::shared_ptr<const HermesTarget> hermes) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<Slot>> slots;
  std::vector<std::thread> threads;
  for (const auto& check : checks) {
    auto slot = std::make_shared<Slot>();
    slots.push_back(slot);
    const auto deadline = started + check.timeout;
    threads.emplace_back([slot, collector = check.collector, os, hermes, deadline] {
      CheckContext context{*os, *hermes, deadline};
      CheckResult result = RunGuarded(*collector, context);
      std::lock_guard<std::mutex> lock(slot->mutex);
      slot->result = std::move(result);
      slot->done.notify_all();
    });
  }
  CheckRound round;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    std::unique_lock<std::mutex> lock(slots[i]->mutex);
    const auto give_up = started + checks[i].timeout + kGrace;
    if (slots[i]->done.wait_until(lock, give_up, [&] { return slots[i]->result.has_value(); })) {
      round.results.push_back(std::move(*slots[i]->result));
      lock.unlock();
      threads[i].join();
    } else {
      lock.unlock();
      threads[i].detach();
      ++round.abandoned;
      auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(checks[i].timeout);
      CheckResult late = MakeResult(
          checks[i].collector->Name(), Status::kUnknown,
          "did not answer within its timeout of " + std::to_string(seconds.count()) + " ms",
          {{"timed_out", true}});
      late.duration = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - started);
      round.results.push_back(std::move(late));
    }
  }
  round.overall = OverallStatus(round.results);
  return round;
}

}  // namespace fleet
