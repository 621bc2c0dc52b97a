// ConnectionTable: the receiver's open HTTP connections and what each is doing, so the
// connection cap and the per-peer (source address) limit hold in every phase of a request,
// and at the cap the connection least likely to be a working agent is closed to make room.
// Admit decides under one mutex: a peer at its limit is refused; at the cap a victim is
// chosen and removed at once, so its slot goes to the newcomer (the count never exceeds
// the cap and no victim is chosen twice), and its close callback is returned for the
// caller to run outside the lock. Victims, first to last: a connection lingering after its
// reply; a body arriving slower than min_body_rate (slowest first); a new connection still
// without its request's headers (oldest first); a body on pace (slowest first); an idle
// keep-alive connection that has had a body accepted before (oldest first). A connection
// whose request is being handled is never chosen. Time is passed in; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace fleet::receiver {

struct ConnectionLimits {
  int max_connections = 256;
  int max_per_peer = 64;                       // 0: no per-peer limit (a proxy in front)
  std::uint64_t min_body_rate = 16 * 1024;     // bytes a second a body must keep up, after
  std::chrono::milliseconds body_grace{5000};  // this grace from the end of the headers
};

// How long a body of `length` bytes may take: the grace plus length at min_body_rate.
std::chrono::milliseconds BodyAllowance(std::uint64_t length, const ConnectionLimits& limits);

enum class ConnectionPhase {
  kFresh,     // waiting for a request's headers, no body accepted on it yet
  kIdle,      // had a body accepted before, waiting for the next request (keep-alive)
  kBody,      // headers in, reading the body
  kHandling,  // the request is being handled or its reply written: never evicted
  kLinger,    // closing after its reply, draining what the client still sends
};

class ConnectionTable {
 public:
  using Clock = std::chrono::steady_clock;
  using Id = std::uint64_t;  // 0 is never a connection's id
  enum class Verdict { kAdmitted, kPeerLimit, kFull };
  struct Admission {
    Verdict verdict = Verdict::kFull;
    Id id = 0;
    std::function<void()> close_victim;  // empty when nobody had to make room
  };

  explicit ConnectionTable(ConnectionLimits limits) : limits_(limits) {}

  // A new connection from `peer`; `close` closes it if it is ever chosen as a victim.
  Admission Admit(const std::string& peer, Clock::time_point now, std::function<void()> close);
  // The connection moved to `phase` (entering kBody starts its body clock).
  void Enter(Id id, ConnectionPhase phase, Clock::time_point now);
  // `bytes` more of the connection's body arrived.
  void AddBodyBytes(Id id, std::uint64_t bytes);
  // The connection is gone; unknown ids (victims already removed) are ignored.
  void Release(Id id);

  int Size() const;
  int PeerCount(const std::string& peer) const;
  const ConnectionLimits& Limits() const { return limits_; }

 private:
  struct Entry {
    std::string peer;
    ConnectionPhase phase = ConnectionPhase::kFresh;
    Clock::time_point since;  // when it entered its phase
    std::uint64_t body_bytes = 0;
    std::function<void()> close;
  };
  std::optional<Id> ChooseVictim(Clock::time_point now) const;  // under mutex_
  void Remove(std::unordered_map<Id, Entry>::iterator it);      // under mutex_

  const ConnectionLimits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<Id, Entry> entries_;
  std::unordered_map<std::string, int> per_peer_;
  Id next_id_ = 1;
};

}  // namespace fleet::receiver
