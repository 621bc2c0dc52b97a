// The sd-bus UnitStateSource. Calls are sent asynchronously and driven by hand with
// sd_bus_process/sd_bus_wait so that nothing (not even authentication, which a blocking
// sd_bus_call would wait 90 s for) outlives the caller's deadline.
#include "collectors/gateway/systemd_units.h"

#include <systemd/sd-bus.h>

#include <array>
#include <cerrno>
#include <cstring>
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

class SdBusUnitSource final : public UnitStateSource {
 public:
  explicit SdBusUnitSource(std::string run_root) : run_root_(std::move(run_root)) {}

  ManagerReply Query(const ManagerRef& manager, const std::vector<std::string>& units,
                     Deadline deadline) override {
    std::array<Endpoint, 2> endpoints{Endpoint{run_root_ + "/systemd/private", false},
                                      Endpoint{run_root_ + "/dbus/system_bus_socket", true}};
    if (manager.user_manager) {
      const std::string run = run_root_ + "/user/" + std::to_string(manager.user.uid);
      endpoints = {Endpoint{run + "/systemd/private", false}, Endpoint{run + "/bus", true}};
    }
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

}  // namespace

std::string ManagerRef::Describe() const {
  if (!user_manager) return "the system manager";
  return (user.name.empty() ? "uid " + std::to_string(user.uid) : user.name) + "'s user manager";
}

std::unique_ptr<UnitStateSource> MakeSdBusUnitSource(std::string run_root) {
  return std::make_unique<SdBusUnitSource>(std::move(run_root));
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
