#include "collectors/gateway/gateway_check.h"

#include <algorithm>
#include <ctime>
#include <optional>

#include "base/units.h"
#include "base/utc_time.h"
#include "collectors/gateway/gateway_process.h"
#include "collectors/gateway/systemd_units.h"

namespace fleet {
namespace {

using nlohmann::json;

constexpr std::uint32_t kRestartsWarning = 3;

std::string FormatUsec(std::uint64_t usec) {
  return FormatUtc(static_cast<UnixSeconds>(usec / 1000000));
}

// The commands as the reader of the summary (root, or the Hermes user) would type them.
std::string Systemctl(const ManagerRef& manager, uid_t euid) {
  if (!manager.user_manager) return "systemctl";
  if (euid == manager.user.uid) return "systemctl --user";
  return "systemctl --user -M " + manager.user.name + "@";
}

std::string Journal(const ManagerRef& manager, uid_t euid, const std::string& unit) {
  if (!manager.user_manager) return "journalctl -u " + unit;
  if (euid == manager.user.uid) return "journalctl --user -u " + unit;
  return "journalctl _SYSTEMD_USER_UNIT=" + unit;
}

std::vector<Finding> JudgeUnit(const UnitState& unit, const ManagerRef& manager, uid_t euid,
                               std::chrono::system_clock::time_point now) {
  const std::string& name = unit.name;
  const std::string where = " in " + manager.Describe();
  const std::string systemctl = Systemctl(manager, euid);
  const std::string journal = "`" + Journal(manager, euid, name) + "`";
  std::string since;
  std::string age;
  if (unit.state_change_usec > 0) {
    since = " since " + FormatUsec(unit.state_change_usec);
    std::chrono::system_clock::time_point at{
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::microseconds(unit.state_change_usec))};
    if (now >= at) {
      age = " for " + FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(now - at));
    }
  }
  const std::string& active = unit.active_state;
  const std::string state = active + (unit.sub_state.empty() ? "" : " (" + unit.sub_state + ")");
  const std::string restarts = unit.n_restarts ? std::to_string(*unit.n_restarts) : "";
  if (unit.load_state == "masked") {
    return {{Status::kCritical, name + " is masked" + where + " — `" + systemctl + " unmask " +
                                    name + "`, then start it"}};
  }
  if (active == "active" || active == "reloading") {
    std::vector<Finding> findings{{Status::kOk, name + " " + state + where + age}};
    if (unit.n_restarts && *unit.n_restarts >= kRestartsWarning) {
      findings.push_back({Status::kWarning, name + " restarted " + restarts +
                                                " times since it was last started by hand — see " +
                                                journal});
    }
    return findings;
  }
  if (active == "activating" && unit.sub_state == "auto-restart") {
    return {{Status::kCritical, name + " is crash-looping" + where + " (waiting to restart" +
                                    (restarts.empty() ? "" : ", " + restarts + " restarts") +
                                    ") — see " + journal}};
  }
  if (active == "activating") return {{Status::kWarning, name + " is " + state + where}};
  if (active == "failed") {
    const bool has_result = !unit.result.empty() && unit.result != "success";
    return {{Status::kCritical, name + " failed" + (has_result ? " (" + unit.result + ")" : "") +
                                    where + since + " — see " + journal + ", then `" + systemctl +
                                    " restart " + name + "`"}};
  }
  return {{Status::kCritical, name + " is " + (active.empty() ? "not active" : state) + where +
                                  since + " — start it with `" + systemctl + " start " + name +
                                  "`"}};
}

json UnitDetails(const UnitState& unit, const ManagerRef& manager) {
  json details = {{"name", unit.name},
                  {"manager", manager.user_manager ? "user" : "system"},
                  {"load_state", unit.load_state},
                  {"active_state", unit.active_state},
                  {"sub_state", unit.sub_state},
                  {"result", unit.result},
                  {"main_pid", unit.main_pid}};
  if (manager.user_manager) details["user"] = manager.user.name;
  details["n_restarts"] = unit.n_restarts ? json(*unit.n_restarts) : json(nullptr);
  details["since"] =
      unit.state_change_usec ? json(FormatUsec(unit.state_change_usec)) : json(nullptr);
  return details;
}

struct Place {
  ManagerRef manager;
  std::optional<ManagerReply> reply;  // set once asked
};

std::string Describe(const Place& place) {
  std::string text = place.manager.Describe();
  if (place.reply->reach == ManagerReply::Reach::kAbsent) text += " (not running)";
  if (place.reply->reach == ManagerReply::Reach::kFailed) text += " (could not be asked)";
  return text;
}

json PlaceDetails(const Place& place) {
  const ManagerReply& reply = *place.reply;
  static constexpr const char* kReach[] = {"answered", "absent", "failed"};
  json details = {{"manager", place.manager.user_manager ? "user" : "system"},
                  {"reach", kReach[static_cast<int>(reply.reach)]}};
  if (place.manager.user_manager) details["user"] = place.manager.user.name;
  if (!reply.problem.empty()) details["problem"] = reply.problem;
  json units = json::object();
  for (const auto& unit : reply.units) units[unit.name] = unit.load_state;
  if (!units.empty()) details["units"] = std::move(units);
  return details;
}

// "a", "a or b", "a, b or c".
std::string JoinOr(const std::vector<std::string>& items) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += i + 1 == items.size() ? " or " : ", ";
    text += items[i];
  }
  return text;
}

// The worst findings make the summary; the others stay in the details.
CheckResult Compose(const std::vector<Finding>& findings, json details) {
  if (findings.empty()) return MakeResult("gateway", Status::kUnknown, "no verdict", details);
  Status worst = Status::kOk;
  for (const auto& f : findings) worst = Worse(worst, f.status);
  std::string summary;
  json all = json::array();
  for (const auto& f : findings) {
    all.push_back({{"status", StatusName(f.status)}, {"text", f.text}});
    if (f.status == worst) summary += (summary.empty() ? "" : "; ") + f.text;
  }
  details["findings"] = std::move(all);
  return MakeResult("gateway", worst, summary, std::move(details));
}

class GatewayCheck final : public Collector {
 public:
  GatewayCheck(GatewayOptions options, std::shared_ptr<UnitStateSource> units)
      : options_(std::move(options)), units_(std::move(units)) {
    for (const auto& name : options_.units) {
      std::string unit = NormaliseUnitName(name);
      if (std::find(names_.begin(), names_.end(), unit) == names_.end()) names_.push_back(unit);
    }
  }
  std::string Name() const override { return "gateway"; }

  CheckResult Run(const CheckContext& context) override {
    const Os& os = context.os;
    std::vector<Place> places;
    if (options_.scope != UnitScope::kUser) places.push_back({ManagerRef{false, {}}, {}});
    if (options_.scope != UnitScope::kSystem) {
      places.push_back({ManagerRef{true, context.hermes.user}, {}});
    }
    // Leave a little time for the files after D-Bus.
    auto deadline = context.deadline;
    if (context.Remaining() > std::chrono::milliseconds(200))
      deadline -= std::chrono::milliseconds(50);

    json details = {{"looked_at", json::array()}, {"managers", json::array()}};
    for (std::size_t i = 0; i < names_.size(); ++i) {
      for (auto& place : places) {
        if (!place.reply) {
          place.reply = units_->Query(place.manager, names_, deadline);
          details["managers"].push_back(PlaceDetails(place));
          details["looked_at"].push_back(Describe(place));
        }
        const ManagerReply& reply = *place.reply;
        if (reply.reach != ManagerReply::Reach::kAnswered || i >= reply.units.size() ||
            !reply.units[i].Exists()) {
          continue;
        }
        return FromUnit(context, reply.units[i], place.manager, std::move(details));
      }
    }

    FileVerdict files = InspectGatewayFiles(os, context.hermes);
    details.update(files.details);
    details["looked_at"].push_back(files.details["pid_file"]["path"]);
    details["looked_at"].push_back(files.details["state_file"]["path"]);
    if (files.found) {
      details["source"] = "files";
      return Compose(files.findings, std::move(details));
    }
    details["source"] = nullptr;
    return NotFound(context, places, std::move(details));
  }

 private:
  CheckResult FromUnit(const CheckContext& context, const UnitState& unit,
                       const ManagerRef& manager, json details) {
    details["source"] = "unit";
    details["unit"] = UnitDetails(unit, manager);
    std::vector<Finding> findings =
        JudgeUnit(unit, manager, context.os.EffectiveUid(), context.os.Now());
    if (unit.active_state == "active" || unit.active_state == "reloading") {
      FileVerdict state = InspectGatewayStateOnly(context.os, context.hermes);
      details.update(state.details);
      for (auto& f : state.findings) findings.push_back(std::move(f));
    }
    return Compose(findings, std::move(details));
  }

  CheckResult NotFound(const CheckContext& context, const std::vector<Place>& places,
                       json details) {
    const uid_t euid = context.os.EffectiveUid();
    std::vector<std::string> where;
    const Place* failed = nullptr;
    const Place* user_place = nullptr;
    for (const auto& place : places) {
      if (!place.reply) continue;
      where.push_back(Describe(place));
      if (place.reply->reach == ManagerReply::Reach::kFailed && !failed) failed = &place;
      if (place.manager.user_manager) user_place = &place;
    }
    // A user unit installed for a user manager that is not running (no linger, no login).
    if (user_place && user_place->reply->reach == ManagerReply::Reach::kAbsent) {
      const UserInfo& user = user_place->manager.user;
      for (const auto& name : names_) {
        const std::string file = user.home + "/.config/systemd/user/" + name;
        auto info = context.os.Stat(file, true);
        if (!info.ok() || !info->has_value()) continue;
        details["installed_unit"] = file;
        return MakeResult("gateway", Status::kCritical,
                          name + " is installed for " + user.name + " but " + user.name +
                              "'s user manager is not running — `loginctl enable-linger " +
                              user.name + "` starts it now and at every boot",
                          std::move(details));
      }
    }
    const std::string pid_path = ResolveInHome(context.hermes, "gateway.pid");
    std::string looked;
    if (!names_.empty()) looked += "no " + JoinOr(names_) + " in " + JoinOr(where) + ", ";
    looked += "no " + pid_path;
    if (failed) {
      return MakeResult("gateway", Status::kUnknown,
                        "cannot tell whether the gateway runs: " + failed->manager.Describe() +
                            " could not be asked (" + failed->reply->problem + "); " + looked,
                        std::move(details));
    }
    std::string hint = "`hermes gateway install`";
    if (!options_.units.empty() && options_.scope != UnitScope::kSystem) {
      hint = "`" + Systemctl(ManagerRef{true, context.hermes.user}, euid) + " start " +
             options_.units.front() + "` or " + hint;
    } else if (!options_.units.empty()) {
      hint =
          "`systemctl start " + options_.units.front() + "` or `hermes gateway install --system`";
    }
    return MakeResult("gateway", Status::kCritical,
                      "gateway not found: " + looked + " — start it with " + hint,
                      std::move(details));
  }

  GatewayOptions options_;
  std::shared_ptr<UnitStateSource> units_;
  std::vector<std::string> names_;  // normalised, without duplicates
};

}  // namespace

std::unique_ptr<Collector> MakeGatewayCheck(GatewayOptions options) {
  return MakeGatewayCheck(std::move(options),
                          std::shared_ptr<UnitStateSource>(MakeSdBusUnitSource()));
}

std::unique_ptr<Collector> MakeGatewayCheck(GatewayOptions options,
                                            std::shared_ptr<UnitStateSource> units) {
  return std::make_unique<GatewayCheck>(std::move(options), std::move(units));
}

}  // namespace fleet
