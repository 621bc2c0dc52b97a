// SystemdUnits: what one systemd manager (the system manager, or one user's manager) says
// about named units, read over D-Bus with sd-bus. UnitStateSource is the seam: the gateway
// check asks it, unit tests fake it. The sd-bus source tries the manager's private socket
// first (root, or the user itself; works without a bus daemon), then the bus
// (/run/dbus/system_bus_socket, /run/user/UID/bus). Units are loaded with LoadUnit, so a
// unit that exists on disk but is not loaded is still found; one unknown to the manager
// has LoadState "not-found". No call waits past the deadline given, connection and
// authentication included. One source may be used from several threads, one Query each.
// UnitRestarter is the one write: RestartUnit (mode replace) on the same managers, waiting
// for the job's end (JobRemoved) by the deadline; a unit that hit systemd's start limit
// (Result start-limit-hit) gets ResetFailedUnit first, since it stays failed until then.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/os.h"

namespace fleet {

// Which manager to ask.
struct ManagerRef {
  bool user_manager = false;  // false: the system manager
  UserInfo user;              // whose manager, when user_manager

  // "the system manager", "hermes's user manager".
  std::string Describe() const;
};

struct UnitState {
  std::string name;          // "hermes-gateway.service"
  std::string load_state;    // loaded, not-found, masked, error, bad-setting
  std::string active_state;  // active, reloading, inactive, failed, activating, deactivating
  std::string sub_state;     // running, dead, auto-restart, exited, ...
  std::string result;        // Service.Result: success, exit-code, signal, ...
  std::optional<std::uint32_t> n_restarts;  // Service.NRestarts
  std::uint32_t main_pid = 0;
  std::uint64_t state_change_usec = 0;  // realtime µs of the last ActiveState change; 0: unknown

  bool Exists() const { return !load_state.empty() && load_state != "not-found"; }
};

struct ManagerReply {
  enum class Reach {
    kAnswered,  // units holds one state per name asked, in order
    kAbsent,    // no such manager here (no socket: not booted with systemd, no user session)
    kFailed,    // there but could not be asked (permission denied, timed out, refused)
  };
  Reach reach = Reach::kFailed;
  std::string problem;  // why not answered, one line
  std::vector<UnitState> units;
};

class UnitStateSource {
 public:
  virtual ~UnitStateSource() = default;
  virtual ManagerReply Query(const ManagerRef& manager, const std::vector<std::string>& units,
                             std::chrono::steady_clock::time_point deadline) = 0;
};

// run_root is "/run" on a real machine; tests put sockets of their own elsewhere.
std::unique_ptr<UnitStateSource> MakeSdBusUnitSource(std::string run_root = "/run");

// What a restart did. `ok`: the job ended "done" and the unit was still active a second
// later (one that dies at once is not ok). `text`: one line, what happened or why not.
struct RestartReply {
  bool ok = false;
  std::string text;
  bool reset_failed = false;  // the start limit had been hit: ResetFailedUnit was called
  std::string job_result;     // done, failed, canceled, timeout, dependency, ...; empty: none
  UnitState after;            // the unit once the job ended (empty when it could not be read)
};

class UnitRestarter {
 public:
  virtual ~UnitRestarter() = default;
  virtual RestartReply Restart(const ManagerRef& manager, const std::string& unit,
                               std::chrono::steady_clock::time_point deadline) = 0;
};

std::unique_ptr<UnitRestarter> MakeSdBusUnitRestarter(std::string run_root = "/run");

// Appends ".service" to a name without a unit type suffix: "ai.hermes.gateway" becomes
// "ai.hermes.gateway.service"; "hermes-gateway.service" and "x.timer" stay as they are.
std::string NormaliseUnitName(const std::string& name);

}  // namespace fleet
