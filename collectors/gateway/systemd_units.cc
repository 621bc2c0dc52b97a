// The sd-bus UnitStateSource. Calls are sent asynchronously and driven by hand with
// sd_bus_process/sd_bus_wait so that nothing (not even authentication, which a blocking
// sd_bus_call would wait 90 s for) outlives the caller's deadline.
#include "collectors/gateway/systemd_units.h"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <type_traits>

namespace fleet {
namespace {

constexpr const char* kDestination = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";
constexpr const char* kProperties = "org.freedesktop.DBus.Properties";

struct BusUnref {
  void operator()(sd_bus* bus) const { sd_bus_close_unref(bus); }
};
struct MessageUnref {
  void operator()(sd_bus_message* message) const { sd_bus_message_unref(message); }
};
struct SlotUnref {
  void operator()(sd_bus_slot* slot) const { sd_bus_slot_unref(slot); }
};
using BusPtr = std::unique_ptr<sd_bus, BusUnref>;
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotUnref>;
using Deadline = std::chrono::steady_clock::time_point;

// Why a call got no useful answer: the connection failed (transport) or the peer said no.
struct CallFailure {
  bool transport = true;
  int error = 0;     // errno
  std::string name;  // D-Bus error name when the peer answered with an error
  std::string text;

  std::string Describe() const {
    if (!text.empty()) return text;
    if (!name.empty()) return name;
    return error == ETIMEDOUT ? "timed out" : std::strerror(error);
  }
};

std::uint64_t RemainingUsec(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<std::uint64_t>(left.count()) : 0;
}

int OnReply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
  static_cast<MessagePtr*>(userdata)->reset(sd_bus_message_ref(reply));
  return 0;
}

// Sends `request` and waits for its reply until the deadline.
MessagePtr Call(sd_bus* bus, sd_bus_message* request, Deadline deadline, CallFailure* failure) {
  *failure = CallFailure{true, ETIMEDOUT, {}, {}};
  std::uint64_t left = RemainingUsec(deadline);
  if (left == 0) return nullptr;
  MessagePtr reply;  // declared before the slot: the slot (and its callback) goes first
  sd_bus_slot* raw_slot = nullptr;
  int r = sd_bus_call_async(bus, &raw_slot, request, OnReply, &reply, left);
  SlotPtr slot(raw_slot);
  while (r >= 0 && !reply) {
    r = sd_bus_process(bus, nullptr);
    if (r != 0) continue;
    if ((left = RemainingUsec(deadline)) == 0) return nullptr;
    r = sd_bus_wait(bus, left);
    if (r == -EINTR) r = 0;
  }
  if (r < 0) {
    failure->error = -r;
    return nullptr;
  }
  if (sd_bus_message_is_method_error(reply.get(), nullptr)) {
    const sd_bus_error* error = sd_bus_message_get_error(reply.get());
    failure->transport = sd_bus_is_open(bus) <= 0;  // a synthetic reply to a dropped link
    failure->error = sd_bus_error_get_errno(error);
    failure->name = error->name ? error->name : "";
    failure->text = error->message ? error->message : "";
    return nullptr;
  }
  return reply;
}

// Properties.Get of one basic-typed property; false (with failure set) when not answered.
template <typename T>
bool GetProperty(sd_bus* bus, const std::string& path, const char* interface, const char* name,
                 char type, T* out, Deadline deadline, CallFailure* failure) {
  sd_bus_message* raw = nullptr;
  if (int r =
          sd_bus_message_new_method_call(bus, &raw, kDestination, path.c_str(), kProperties, "Get");
      r < 0) {
    *failure = CallFailure{true, -r, {}, {}};
    return false;
  }
  MessagePtr request(raw);
  sd_bus_message_append(request.get(), "ss", interface, name);
  MessagePtr reply = Call(bus, request.get(), deadline, failure);
  if (!reply) return false;
  const char signature[2] = {type, '\0'};
  int r = sd_bus_message_enter_container(reply.get(), 'v', signature);
  if constexpr (std::is_same_v<T, std::string>) {
    const char* text = nullptr;  // points into the reply: copy it while the reply lives
    if (r >= 0) r = sd_bus_message_read_basic(reply.get(), type, &text);
    if (r >= 0) *out = text ? text : "";
  } else {
    if (r >= 0) r = sd_bus_message_read_basic(reply.get(), type, out);
  }
  if (r < 0) {
    *failure = CallFailure{false, -r, {}, std::string("unexpected type of ") + name};
    return false;
  }
  return true;
}

bool GetString(sd_bus* bus, const std::string& path, const char* interface, const char* name,
               std::string* out, Deadline deadline, CallFailure* failure) {
  return GetProperty(bus, path, interface, name, 's', out, deadline, failure);
}

// LoadUnit then its properties. False only when the manager could not be asked.
bool ReadUnit(sd_bus* bus, const std::string& name, Deadline deadline, UnitState* unit,
              CallFailure* failure) {
  unit->name = name;
  sd_bus_message* raw = nullptr;
  if (int r = sd_bus_message_new_method_call(bus, &raw, kDestination, kManagerPath,
                                             kManagerInterface, "LoadUnit");
      r < 0) {
    *failure = CallFailure{true, -r, {}, {}};
    return false;
  }
  MessagePtr request(raw);
  sd_bus_message_append(request.get(), "s", name.c_str());
  MessagePtr reply = Call(bus, request.get(), deadline, failure);
  if (!reply) {
    if (failure->transport || failure->name != SD_BUS_ERROR_INVALID_ARGS) return false;
    unit->load_state = "not-found";  // a name systemd refuses cannot exist
    return true;
  }
  const char* object = nullptr;
  if (sd_bus_message_read(reply.get(), "o", &object) < 0 || object == nullptr) {
    *failure = CallFailure{false, EBADMSG, {}, "LoadUnit: unexpected reply"};
    return false;
  }
  const std::string path = object;
  if (!GetString(bus, path, kUnitInterface, "LoadState", &unit->load_state, deadline, failure)) {
    return false;
  }
  if (!unit->Exists()) return true;
  if (!GetString(bus, path, kUnitInterface, "ActiveState", &unit->active_state, deadline,
                 failure) ||
      !GetString(bus, path, kUnitInterface, "SubState", &unit->sub_state, deadline, failure) ||
      !GetProperty(bus, path, kUnitInterface, "StateChangeTimestamp", 't', &unit->state_change_usec,
                   deadline, failure)) {
    return false;
  }
  if (!name.ends_with(".service")) return true;
  // Service properties are extras: a missing one (older systemd) is not a failure.
  CallFailure ignored;
  std::uint32_t restarts = 0;
  if (GetProperty(bus, path, kServiceInterface, "NRestarts", 'u', &restarts, deadline, &ignored)) {
    unit->n_restarts = restarts;
  } else if (ignored.transport) {
    *failure = ignored;
    return false;
  }
  GetString(bus, path, kServiceInterface, "Result", &unit->result, deadline, &ignored);
  GetProperty(bus, path, kServiceInterface, "MainPID", 'u', &unit->main_pid, deadline, &ignored);
  return true;
}

struct Endpoint {
  std::string path;  // of the unix socket
  bool bus_client;   // false: a direct connection to systemd's private socket
};

BusPtr Open(const Endpoint& endpoint, CallFailure* failure) {
  sd_bus* raw = nullptr;
  int r = sd_bus_new(&raw);
  BusPtr bus(raw);
  const std::string address = "unix:path=" + endpoint.path;
  if (r >= 0) r = sd_bus_set_address(raw, address.c_str());
  if (r >= 0) r = sd_bus_set_bus_client(raw, endpoint.bus_client);
  if (r >= 0) r = sd_bus_start(raw);
  if (r < 0) {
    *failure = CallFailure{true, -r, {}, {}};
    return nullptr;
  }
  return bus;
}

// Nobody is listening there: no socket, a stale one, or a bus without systemd on it.
bool MeansAbsent(const CallFailure& failure) {
  if (failure.transport) {
    return failure.error == ENOENT || failure.error == ECONNREFUSED || failure.error == ENOTDIR;
  }
  return failure.name == SD_BUS_ERROR_SERVICE_UNKNOWN ||
         failure.name == SD_BUS_ERROR_NAME_HAS_NO_OWNER;
}

// The manager's private socket first (root, or the user itself), then the bus.
std::array<Endpoint, 2> EndpointsOf(const std::string& run_root, const ManagerRef& manager) {
  if (manager.user_manager) {
    const std::string run = run_root + "/user/" + std::to_string(manager.user.uid);
    return {Endpoint{run + "/systemd/private", false}, Endpoint{run + "/bus", true}};
  }
  return {Endpoint{run_root + "/systemd/private", false},
          Endpoint{run_root + "/dbus/system_bus_socket", true}};
}

class SdBusUnitSource final : public UnitStateSource {
 public:
  explicit SdBusUnitSource(std::string run_root) : run_root_(std::move(run_root)) {}

  ManagerReply Query(const ManagerRef& manager, const std::vector<std::string>& units,
                     Deadline deadline) override {
    const std::array<Endpoint, 2> endpoints = EndpointsOf(run_root_, manager);
    ManagerReply reply;
    bool all_absent = true;
    for (const auto& endpoint : endpoints) {
      CallFailure failure;
      if (BusPtr bus = Open(endpoint, &failure)) {
        reply.units.clear();
        for (const auto& name : units) {
          UnitState unit;
          if (!ReadUnit(bus.get(), name, deadline, &unit, &failure)) break;
          reply.units.push_back(std::move(unit));
        }
        if (reply.units.size() == units.size()) {
          reply.reach = ManagerReply::Reach::kAnswered;
          reply.problem.clear();
          return reply;
        }
      }
      all_absent = all_absent && MeansAbsent(failure);
      reply.problem +=
          (reply.problem.empty() ? "" : "; ") + endpoint.path + ": " + failure.Describe();
      if (RemainingUsec(deadline) == 0) break;
    }
    reply.units.clear();
    reply.reach = all_absent ? ManagerReply::Reach::kAbsent : ManagerReply::Reach::kFailed;
    return reply;
  }

 private:
  std::string run_root_;
};

// Manager.<method>(args...) with string arguments; the reply, or null with failure set.
MessagePtr CallManager(sd_bus* bus, const char* method, const std::vector<std::string>& args,
                       Deadline deadline, CallFailure* failure) {
  sd_bus_message* raw = nullptr;
  if (int r = sd_bus_message_new_method_call(bus, &raw, kDestination, kManagerPath,
                                             kManagerInterface, method);
      r < 0) {
    *failure = CallFailure{true, -r, {}, {}};
    return nullptr;
  }
  MessagePtr request(raw);
  for (const auto& arg : args) {
    if (int r = sd_bus_message_append_basic(request.get(), 's', arg.c_str()); r < 0) {
      *failure = CallFailure{false, -r, {}, {}};
      return nullptr;
    }
  }
  return Call(bus, request.get(), deadline, failure);
}

// The JobRemoved signals seen on a connection: job object path -> result.
struct JobWatch {
  std::map<std::string, std::string> removed;
};

int OnJobRemoved(sd_bus_message* message, void* userdata, sd_bus_error*) {
  std::uint32_t id = 0;
  const char* job = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (sd_bus_message_read(message, "uoss", &id, &job, &unit, &result) >= 0 && job && result) {
    static_cast<JobWatch*>(userdata)->removed[job] = result;
  }
  return 0;
}

std::string StateText(const UnitState& unit) {
  std::string text = unit.active_state + " (" + unit.sub_state + ")";
  if (!unit.result.empty() && unit.result != "success") text += ", result " + unit.result;
  return text;
}

// How long a restarted unit must stay active for the restart to count as working.
constexpr std::chrono::milliseconds kSettle{1000};

class SdBusUnitRestarter final : public UnitRestarter {
 public:
  explicit SdBusUnitRestarter(std::string run_root) : run_root_(std::move(run_root)) {}

  RestartReply Restart(const ManagerRef& manager, const std::string& unit,
                       Deadline deadline) override {
    RestartReply reply;
    std::string problems;
    for (const auto& endpoint : EndpointsOf(run_root_, manager)) {
      CallFailure failure;
      BusPtr bus = Open(endpoint, &failure);
      if (!bus) {
        problems += (problems.empty() ? "" : "; ") + endpoint.path + ": " + failure.Describe();
        continue;
      }
      JobWatch watch;
      sd_bus_slot* raw_match = nullptr;
      sd_bus_match_signal_async(bus.get(), &raw_match, kDestination, kManagerPath,
                                kManagerInterface, "JobRemoved", OnJobRemoved, nullptr, &watch);
      SlotPtr match(raw_match);
      // Subscribe makes the manager send its signals here; the job's own requester gets
      // JobRemoved anyway, so a refusal is not fatal. A dropped link is: try the next way.
      if (!CallManager(bus.get(), "Subscribe", {}, deadline, &failure) && failure.transport) {
        problems += (problems.empty() ? "" : "; ") + endpoint.path + ": " + failure.Describe();
        continue;
      }
      UnitState before;
      if (!ReadUnit(bus.get(), unit, deadline, &before, &failure)) {
        problems += (problems.empty() ? "" : "; ") + endpoint.path + ": " + failure.Describe();
        if (failure.transport) continue;
        break;
      }
      if (!before.Exists()) {
        reply.text = unit + " is not known to " + manager.Describe();
        return reply;
      }
      Attempt(bus.get(), watch, manager, unit, before.result == "start-limit-hit", deadline,
              &reply);
      return reply;
    }
    reply.text = "cannot ask " + manager.Describe() + " to restart " + unit + ": " + problems;
    return reply;
  }

 private:
  // InactiveExitTimestampMonotonic: it moves when the unit really starts. 0 when unread.
  static std::uint64_t LeftInactiveAt(sd_bus* bus, const std::string& unit, Deadline deadline) {
    CallFailure ignored;
    std::string path;
    MessagePtr loaded = CallManager(bus, "GetUnit", {unit}, deadline, &ignored);
    const char* object = nullptr;
    if (!loaded || sd_bus_message_read(loaded.get(), "o", &object) < 0 || !object) return 0;
    std::uint64_t at = 0;
    GetProperty(bus, object, kUnitInterface, "InactiveExitTimestampMonotonic", 't', &at, deadline,
                &ignored);
    return at;
  }

  // systemd's start limit of the unit, in words: "StartLimitBurst=5 within 10s".
  static std::string StartLimit(sd_bus* bus, const std::string& unit, Deadline deadline) {
    CallFailure ignored;
    MessagePtr loaded = CallManager(bus, "GetUnit", {unit}, deadline, &ignored);
    const char* object = nullptr;
    if (!loaded || sd_bus_message_read(loaded.get(), "o", &object) < 0 || !object) return "";
    std::uint32_t burst = 0;
    std::uint64_t interval = 0;
    if (!GetProperty(bus, object, kUnitInterface, "StartLimitBurst", 'u', &burst, deadline,
                     &ignored) ||
        !GetProperty(bus, object, kUnitInterface, "StartLimitIntervalUSec", 't', &interval,
                     deadline, &ignored)) {
      return "";
    }
    return "StartLimitBurst=" + std::to_string(burst) + " within " +
           std::to_string(interval / 1'000'000) + "s";
  }

  // RestartUnit (mode replace) and the job's end; empty result: text says why.
  static std::string RunJob(sd_bus* bus, JobWatch& watch, const ManagerRef& manager,
                            const std::string& unit, Deadline deadline, std::string* text) {
    CallFailure failure;
    MessagePtr job_reply = CallManager(bus, "RestartUnit", {unit, "replace"}, deadline, &failure);
    if (!job_reply) {  // sent: whatever went wrong, it is not tried a second way
      *text = "RestartUnit " + unit + " failed: " + failure.Describe();
      return "";
    }
    const char* object = nullptr;
    if (sd_bus_message_read(job_reply.get(), "o", &object) < 0 || object == nullptr) {
      *text = "RestartUnit " + unit + ": unexpected reply";
      return "";
    }
    const std::string job = object;
    int r = 0;
    while (!watch.removed.contains(job)) {
      r = sd_bus_process(bus, nullptr);
      if (r < 0) break;
      if (r > 0) continue;
      const std::uint64_t left = RemainingUsec(deadline);
      if (left == 0) break;
      r = sd_bus_wait(bus, left);
      if (r == -EINTR) r = 0;
      if (r < 0) break;
    }
    auto removed = watch.removed.find(job);
    if (removed == watch.removed.end()) {
      *text = r < 0 ? "the connection to " + manager.Describe() + " broke while restarting " +
                          unit + ": " + std::strerror(-r)
                    : "the restart job of " + unit + " did not end by the deadline";
      return "";
    }
    return removed->second;
  }

  // One attempt: a start refused by systemd's start limit (the job failed and the unit never
  // left inactive; Result may still say the earlier failure) is said, the unit reset
  // (ResetFailedUnit, as `systemctl reset-failed`) and restarted once more: still one real
  // start per attempt. A unit already at start-limit-hit is reset first.
  static void Attempt(sd_bus* bus, JobWatch& watch, const ManagerRef& manager,
                      const std::string& unit, bool reset_first, Deadline deadline,
                      RestartReply* reply) {
    CallFailure failure;
    std::string said;
    for (int round = 0; round < 2; ++round) {
      if (reset_first) {
        if (!CallManager(bus, "ResetFailedUnit", {unit}, deadline, &failure)) {
          reply->text = said + unit + " hit systemd's start limit and ResetFailedUnit failed (" +
                        failure.Describe() + "): it stays failed until `systemctl reset-failed`";
          return;
        }
        reply->reset_failed = true;
        said += "start limit reset (reset-failed), ";
      }
      const std::uint64_t left_before = LeftInactiveAt(bus, unit, deadline);
      std::string why;
      reply->job_result = RunJob(bus, watch, manager, unit, deadline, &why);
      if (reply->job_result.empty()) {
        reply->text = said + why;
        return;
      }
      const bool refused = reply->job_result == "failed" && left_before != 0 &&
                           LeftInactiveAt(bus, unit, deadline) == left_before;
      if (!refused || reset_first) break;
      const std::string limit = StartLimit(bus, unit, deadline);
      said += "systemd refused the start (its start limit" + (limit.empty() ? "" : ", " + limit) +
              "), ";
      reset_first = true;
    }
    CallFailure ignored;
    bool read = ReadUnit(bus, unit, deadline, &reply->after, &ignored);
    // A job "done" only says the unit was started: one that dies at once (ExecStart=
    // /bin/false) is failed a moment later. It must stay up for kSettle to count.
    const auto settled = std::chrono::steady_clock::now() + kSettle;
    while (read && reply->job_result == "done" && reply->after.active_state == "active" &&
           std::chrono::steady_clock::now() < std::min(settled, deadline)) {
      sd_bus_wait(bus, 100'000);
      sd_bus_process(bus, nullptr);
      read = ReadUnit(bus, unit, deadline, &reply->after, &ignored);
    }
    reply->ok = reply->job_result == "done" && read &&
                (reply->after.active_state == "active" || reply->after.active_state == "reloading");
    reply->text = said + "restart job " + reply->job_result;
    if (read) reply->text += (reply->ok ? "; " : "; then ") + StateText(reply->after);
    if (read && reply->after.result == "start-limit-hit") {
      reply->text += ": systemd's start limit was hit; it stays failed until reset-failed";
    }
  }

  std::string run_root_;
};

}  // namespace

std::string ManagerRef::Describe() const {
  if (!user_manager) return "the system manager";
  return (user.name.empty() ? "uid " + std::to_string(user.uid) : user.name) + "'s user manager";
}

std::unique_ptr<UnitStateSource> MakeSdBusUnitSource(std::string run_root) {
  return std::make_unique<SdBusUnitSource>(std::move(run_root));
}

std::unique_ptr<UnitRestarter> MakeSdBusUnitRestarter(std::string run_root) {
  return std::make_unique<SdBusUnitRestarter>(std::move(run_root));
}

std::string NormaliseUnitName(const std::string& name) {
  static constexpr std::array<std::string_view, 11> kSuffixes{
      ".service", ".socket", ".target", ".device", ".mount", ".automount",
      ".swap",    ".path",   ".timer",  ".slice",  ".scope"};
  for (auto suffix : kSuffixes) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) return name;
  }
  return name + ".service";
}

}  // namespace fleet
