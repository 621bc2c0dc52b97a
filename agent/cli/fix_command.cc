#include "agent/cli/fix_command.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "agent/alerts/alert_ledger.h"
#include "agent/check/check_report.h"
#include "agent/check/check_runner.h"
#include "agent/config/config.h"
#include "agent/config/hermes_target.h"
#include "agent/remedies/builtin_remedies.h"
#include "agent/remedies/remedy_json.h"
#include "base/utc_time.h"
#include "collectors/builtin.h"

namespace fleet {
namespace {

constexpr int kUsageError = 3;
constexpr auto kRecordWait = std::chrono::seconds(5);
const std::vector<std::string> kRemedyNames{"gateway", "tmux", "disk", "dispatch"};

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Hands each remediation to the running daemon; stops asking after the first silence.
class Recorder {
 public:
  explicit Recorder(std::string state_dir) : state_dir_(std::move(state_dir)) {}

  void Record(const RemediationEntry& entry) {
    if (gave_up_) return;
    if (!ledger_) {
      auto opened = AlertLedger::Open(state_dir_, false);
      if (!opened) return GiveUp("cannot open " + state_dir_ + "/history.db: " + opened.error());
      ledger_ = std::move(opened).value();
    }
    auto id = ledger_->Request("remediation", RemediationToJson(entry), NowUnix());
    if (!id) return GiveUp(id.error());
    const auto deadline = std::chrono::steady_clock::now() + kRecordWait;
    while (std::chrono::steady_clock::now() < deadline) {
      auto answer = ledger_->AnswerOf(*id);
      if (!answer) return GiveUp(answer.error());
      if (*answer) {
        if ((*answer)->ok) {
          ++recorded_;
        } else {
          std::cout << "  not recorded: " << (*answer)->text << "\n";
        }
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    auto withdrawn = ledger_->Withdraw(*id, NowUnix());
    if (withdrawn && !*withdrawn) {
      ++recorded_;
      return;
    }
    GiveUp("no running daemon answered (records are signed by `fleet-agent run`)");
  }
  int recorded() const { return recorded_; }

 private:
  void GiveUp(const std::string& why) {
    gave_up_ = true;
    std::cout << "  not recorded: " << why << "; what follows is not recorded either\n";
  }

  std::string state_dir_;
  std::unique_ptr<AlertLedger> ledger_;
  bool gave_up_ = false;
  int recorded_ = 0;
};

CheckRound RunNamed(const AgentConfig& config, const std::vector<std::string>& names,
                    const std::shared_ptr<const Os>& os,
                    const std::shared_ptr<const HermesTarget>& hermes) {
  std::vector<ScheduledCheck> checks;
  for (const auto& name : names) {
    ScheduledCheck check;
    check.collector = MakeBuiltinCollector(name, config.checks);
    auto it = config.settings.find(name);
    if (it != config.settings.end()) check.timeout = it->second.timeout;
    checks.push_back(std::move(check));
  }
  return RunChecks(checks, os, hermes);
}

void PrintResult(const std::string& prefix, const CheckResult& r) {
  std::string status = std::string(StatusName(r.status));
  std::transform(status.begin(), status.end(), status.begin(), ::toupper);
  std::cout << prefix << r.name << ": " << status << " " << r.summary << "\n";
}

}  // namespace

int RunFixCommand(const FixArgs& args) {
  ConfigLoad load =
      args.config_file.empty() ? ConfigLoad{DefaultConfig(), {}} : LoadConfigFile(args.config_file);
  if (!load.config) {
    for (const auto& e : load.errors) std::cerr << e.ToString() << "\n";
    std::cerr << "fleet-agent: configuration rejected\n";
    return kUsageError;
  }
  AgentConfig config = *load.config;
  if (!args.state_dir.empty()) config.state_dir = args.state_dir;
  for (const auto& name : args.only) {
    if (std::find(kRemedyNames.begin(), kRemedyNames.end(), name) == kRemedyNames.end()) {
      std::cerr << "fleet-agent: unknown remedy '" << name
                << "' (known: gateway, tmux, disk, dispatch)\n";
      return kUsageError;
    }
  }
  std::shared_ptr<const Os> os = MakeLinuxOs();
  auto target = ResolveHermesTarget(config, *os);
  if (!target) {
    std::cerr << "fleet-agent: " << target.error() << "\n";
    return kUsageError;
  }
  auto hermes = std::make_shared<const HermesTarget>(std::move(target).value());
  RemedySetup setup = MakeRemedies(config, hermes, os);
  if (!setup.errors.empty()) {
    for (auto& e : setup.errors) {
      e.file = args.config_file.empty() ? "remedies" : args.config_file;
      std::cerr << e.ToString() << "\n";
    }
    return kUsageError;
  }
  std::vector<std::unique_ptr<Remedy>> remedies;
  for (auto& remedy : setup.remedies) {
    if (args.only.empty() ||
        std::find(args.only.begin(), args.only.end(), remedy->Check()) != args.only.end()) {
      remedies.push_back(std::move(remedy));
    }
  }
  for (const auto& name : args.only) {
    if (std::none_of(remedies.begin(), remedies.end(),
                     [&](const auto& r) { return r->Check() == name; })) {
      std::cerr << "fleet-agent: the " << name << " remedy is not enabled (remedies." << name
                << " in the configuration)\n";
      return kUsageError;
    }
  }
  if (remedies.empty()) {
    std::cerr << "fleet-agent: no remedy is enabled (remedies: in the configuration)\n";
    return kUsageError;
  }
  std::vector<std::string> names;
  for (const auto& remedy : remedies) {
    if (std::find(names.begin(), names.end(), remedy->Check()) == names.end()) {
      names.push_back(remedy->Check());
    }
  }

  CheckRound before = RunNamed(config, names, os, hermes);
  Recorder recorder(config.state_dir);
  std::vector<std::string> acted;
  int actions = 0;
  for (const auto& remedy : remedies) {
    auto it = std::find_if(before.results.begin(), before.results.end(),
                           [&](const CheckResult& r) { return r.name == remedy->Check(); });
    if (it == before.results.end()) continue;
    const CheckResult& result = *it;
    PrintResult("", result);
    if (result.status == Status::kUnknown) {
      std::cout << "  nothing done: could not look (UNKNOWN is not broken)\n";
      continue;
    }
    RemedyPlan plan = remedy->Plan(result);
    if (!plan.note.empty()) std::cout << "  " << plan.note << "\n";
    if (plan.tasks.empty() && plan.note.empty()) std::cout << "  nothing to do\n";
    for (RemedyTask& task : plan.tasks) {
      ++actions;
      RemediationEntry entry;
      entry.check = result.name;
      entry.target = task.target;
      entry.action = task.action;
      entry.reason = result.summary.empty() ? result.name : result.summary;
      entry.attempt = 1;
      entry.started = NowUnix();
      if (args.dry_run) {
        std::cout << "  would " << task.what << "\n";
        entry.finished = entry.started;
        entry.outcome = protocol::RemedyOutcome::kDryRun;
        entry.changed = "dry-run (fleet-agent fix): would " + task.what;
      } else {
        std::cout << "  " << task.what << " ..." << std::endl;
        RemedyDone done = task.run(std::chrono::steady_clock::now() + task.timeout);
        std::cout << "  " << (done.ok ? "done: " : "failed: ") << done.changed << "\n";
        entry.finished = std::max(NowUnix(), entry.started);
        entry.outcome =
            done.ok ? protocol::RemedyOutcome::kSucceeded : protocol::RemedyOutcome::kFailed;
        entry.changed = "fleet-agent fix: " + done.changed;
        if (std::find(acted.begin(), acted.end(), result.name) == acted.end()) {
          acted.push_back(result.name);
        }
      }
      recorder.Record(entry);
    }
  }
  if (actions > 0) {
    std::cout << recorder.recorded() << " of " << actions
              << " action(s) recorded by the running daemon\n";
  }
  Status overall = before.overall;
  if (!acted.empty()) {
    CheckRound after = RunNamed(config, acted, os, hermes);
    for (const auto& r : after.results) PrintResult("after: ", r);
    std::vector<CheckResult> all;
    for (const auto& r : before.results) {
      auto again = std::find_if(after.results.begin(), after.results.end(),
                                [&](const CheckResult& a) { return a.name == r.name; });
      all.push_back(again != after.results.end() ? *again : r);
    }
    overall = OverallStatus(all);
    std::cout.flush();
    if (after.abandoned > 0) std::_Exit(NagiosExitCode(overall));
  }
  std::cout.flush();
  if (before.abandoned > 0) std::_Exit(NagiosExitCode(overall));
  return NagiosExitCode(overall);
}

}  // namespace fleet
