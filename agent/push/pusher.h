// Pusher: sends the spool's records upstream on its own thread, one batch in flight,
// oldest first (design.md, "Push protocol"). Records leave the spool only when the
// receiver's acknowledgement covers them; network errors, 408, 429 and 5xx are retried with
// full-jitter backoff (Retry-After honoured), other 4xx pause pushing with one clear log
// line and a slow retry, and a backlog drains at no more than `drain_rate` records per
// second. It never gives up. A record refused for good (named in a 200 reply's `rejected`,
// or over the contract's size bound and so never sent) is set aside (Spool::SetAside),
// logged, and the records after it go on. Wake() says new records are there; Stop() interrupts a
// transfer or a wait and joins. Status() is a snapshot for status.json.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "agent/config/config.h"
#include "agent/daemon/error_log.h"
#include "agent/push/push_policy.h"

namespace fleet {

class Spool;
class HttpClient;
struct HttpReply;

class Pusher {
 public:
  Pusher(UpstreamSettings upstream, std::string state_dir, std::string node_id);
  ~Pusher();
  Pusher(const Pusher&) = delete;
  Pusher& operator=(const Pusher&) = delete;

  void Start();
  void Wake();
  void Stop();
  nlohmann::json Status() const;

 private:
  void Loop();
  // One batch: true when there was something to send.
  bool PushOnce(Spool& spool, HttpClient& client);
  void HandleReply(Spool& spool, const SentBatch& batch, const HttpReply& reply);
  // Spool::SetAside with a log line; false (after Fail) when the spool cannot do it.
  bool SetAside(Spool& spool, std::int64_t epoch, std::int64_t seq, const std::string& reason);
  // Waits until `delay` passed or Stop(); with `wakeable`, Wake() ends it too.
  void Sleep(std::chrono::milliseconds delay, bool wakeable);
  void SetState(const std::string& state, const std::string& error);
  void Fail(const std::string& state, const std::string& error, std::chrono::milliseconds delay);

  UpstreamSettings upstream_;
  std::string state_dir_;
  std::string node_id_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  std::chrono::milliseconds pending_delay_{0};  // set by a failed batch: wait this long
  Backoff backoff_;
  RepeatingErrorLog errors_;  // the pusher thread's own

  // Guarded by mutex_, for Status().
  std::string state_ = "starting";
  std::string last_error_;
  std::string last_ack_;  // RFC 3339
  std::int64_t acknowledged_ = 0;
  std::int64_t refused_ = 0;  // records set aside since start
  std::int64_t batches_ = 0;
  std::int64_t failures_ = 0;  // in a row
  std::string next_attempt_;
};

}  // namespace fleet
