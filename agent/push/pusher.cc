#include "agent/push/pusher.h"

#include <spdlog/spdlog.h>

#include "agent/check/check_report.h"
#include "agent/history/spool.h"
#include "agent/logging/thread_guard.h"
#include "agent/push/http_client.h"
#include "base/json_text.h"
#include "base/units.h"
#include "base/utc_time.h"
#include "protocol/jws.h"

namespace fleet {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr milliseconds kIdlePoll = 5s;     // look at the spool even without a Wake()
constexpr milliseconds kReopenDelay = 5s;  // the spool or the client could not be opened
constexpr milliseconds kBackoffBase = 1s;

std::string Now() { return FormatUtc(std::chrono::system_clock::now()); }

std::string Excerpt(const std::string& body) {
  std::string text = PrintableAscii(body, 200);
  return text.empty() ? "(empty body)" : text;
}

}  // namespace

Pusher::Pusher(UpstreamSettings upstream, std::string state_dir, std::string node_id)
    : upstream_(std::move(upstream)),
      state_dir_(std::move(state_dir)),
      node_id_(std::move(node_id)),
      backoff_(
          kBackoffBase, upstream_.backoff_cap,
          static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {
}

Pusher::~Pusher() { Stop(); }

void Pusher::Start() {
  thread_ = std::thread([this] {
    RunGuarded(
        "pusher", [this] { Loop(); }, ExitOnFatal);
  });
}

void Pusher::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void Pusher::Stop() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

nlohmann::json Pusher::Status() const {
  std::lock_guard lock(mutex_);
  return {
      {"url", upstream_.url},
      {"state", state_},
      {"last_error", last_error_.empty() ? nlohmann::json() : nlohmann::json(last_error_)},
      {"last_ack", last_ack_.empty() ? nlohmann::json() : nlohmann::json(last_ack_)},
      {"failures_in_a_row", failures_},
      {"next_attempt", next_attempt_.empty() ? nlohmann::json() : nlohmann::json(next_attempt_)},
      {"records_acknowledged", acknowledged_},
      {"records_set_aside", refused_},
      {"batches_sent", batches_}};
}

void Pusher::SetState(const std::string& state, const std::string& error) {
  std::lock_guard lock(mutex_);
  state_ = state;
  if (!error.empty()) last_error_ = error;
}

void Pusher::Fail(const std::string& state, const std::string& error, milliseconds delay) {
  errors_.Report("push", error);
  std::lock_guard lock(mutex_);
  state_ = state;
  last_error_ = error;
  ++failures_;
  pending_delay_ = delay;
  next_attempt_ = FormatUtc(std::chrono::system_clock::now() + delay);
}

void Pusher::Sleep(milliseconds delay, bool wakeable) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [&] { return stop_.load() || (wakeable && woken_); });
  if (wakeable) woken_ = false;
}

void Pusher::Loop() {
  std::unique_ptr<Spool> spool;
  std::unique_ptr<HttpClient> client;
  while (!stop_) {
    if (!spool) {
      auto opened = Spool::Open(state_dir_);
      if (!opened) {
        Fail("spool unavailable", "cannot open the spool: " + opened.error(), kReopenDelay);
      } else {
        spool = std::move(opened).value();
      }
    }
    if (spool && !client) {
      auto created = HttpClient::Create(upstream_, &stop_);
      if (!created) {
        Fail("client unavailable", created.error(), kReopenDelay);
      } else {
        client = std::move(created).value();
      }
    }
    milliseconds delay{0};
    bool sent = false;
    if (spool && client) {
      sent = PushOnce(*spool, *client);
    }
    {
      std::lock_guard lock(mutex_);
      delay = pending_delay_;
      pending_delay_ = 0ms;
      if (delay == 0ms) next_attempt_.clear();
    }
    if (delay > 0ms) {
      Sleep(delay, false);  // a failure: new records do not shorten the wait
    } else if (!sent) {
      Sleep(kIdlePoll, true);
    }
  }
  SetState("stopped", "");
}

bool Pusher::PushOnce(Spool& spool, HttpClient& client) {
  auto batch = spool.OldestBatch(static_cast<std::size_t>(upstream_.batch_records),
                                 static_cast<std::size_t>(upstream_.batch_bytes));
  if (!batch) {
    Fail("spool unavailable", "cannot read the spool: " + batch.error(), kReopenDelay);
    return false;
  }
  if (batch->empty()) {
    SetState("idle", "");
    return false;
  }
  // A record over the contract's bound is refused by any receiver: kept aside unsent (a
  // spool from an agent that did not bound its records yet).
  bool set_aside = false;
  for (const auto& record : *batch) {
    if (record.jws.size() <= kMaxRecordBytes) continue;
    if (!SetAside(spool, record.epoch, record.seq,
                  "not sent: " + std::to_string(record.jws.size()) +
                      " bytes, over the receiver's limit of " + std::to_string(kMaxRecordBytes))) {
      return false;
    }
    set_aside = true;
  }
  if (set_aside) return true;
  SentBatch sent{batch->front().epoch,
                 batch->front().seq,
                 batch->back().seq,
                 static_cast<std::int64_t>(batch->size()),
                 {}};
  std::string body;
  for (const auto& record : *batch) {
    body.append(record.jws).push_back('\n');
    sent.seqs.push_back(record.seq);
  }
  SetState("sending", "");
  const auto started = std::chrono::steady_clock::now();
  auto reply = client.PostRecords(body);
  if (stop_) return true;
  if (!reply) {
    Fail("retrying", reply.error(), backoff_.Next());
    return true;
  }
  {
    std::lock_guard lock(mutex_);
    ++batches_;
  }
  HandleReply(spool, sent, *reply);
  // A backlog drains at a bounded rate: a batch of n records is followed by n/rate seconds.
  std::lock_guard lock(mutex_);
  if (pending_delay_ == 0ms) {
    const auto pace = milliseconds(sent.records * 1000 / upstream_.drain_rate);
    const auto spent =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    if (pace > spent) pending_delay_ = pace - spent;
  }
  return true;
}

bool Pusher::SetAside(Spool& spool, std::int64_t epoch, std::int64_t seq,
                      const std::string& reason) {
  const auto now = std::chrono::system_clock::now();
  auto closed = spool.SetAside(
      epoch, seq, reason,
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  if (!closed) {
    Fail("spool unavailable", "cannot set a refused record aside: " + closed.error(), kReopenDelay);
    return false;
  }
  spdlog::error(
      "push: record epoch {} seq {} is kept aside in history.db (table refused_records), never "
      "to be sent again: {}; newer records go on{}",
      epoch, seq, reason,
      *closed ? " in epoch " + std::to_string(**closed) +
                    " (the receiver acknowledges only along an unbroken chain)"
              : std::string());
  std::lock_guard lock(mutex_);
  ++refused_;
  return true;
}

void Pusher::HandleReply(Spool& spool, const SentBatch& batch, const HttpReply& reply) {
  const std::string status = "HTTP " + std::to_string(reply.status);
  switch (ClassifyReply(reply.status)) {
    case ReplyKind::kRetry: {
      milliseconds delay = backoff_.Next();
      if (reply.retry_after) delay = std::max<milliseconds>(delay, *reply.retry_after);
      Fail("retrying", status + ": " + Excerpt(reply.body), delay);
      return;
    }
    case ReplyKind::kRefused: {
      backoff_.Reset();
      const RefusedBatch refused =
          DescribeRefusal(reply.status, reply.body, upstream_.refused_retry);
      Fail(refused.state, refused.message, upstream_.refused_retry);
      return;
    }
    case ReplyKind::kAcknowledged:
      break;
  }
  auto ack = protocol::DecodePushAck(reply.body);
  if (!ack) {
    Fail("retrying", status + " with an unusable reply: " + ack.error(), backoff_.Next());
    return;
  }
  auto state = spool.State();
  if (!state) {
    Fail("spool unavailable", "cannot read the spool: " + state.error(), kReopenDelay);
    return;
  }
  auto effect = ApplyAck(*ack, node_id_, batch, SpoolHead{state->epoch, state->next_seq});
  if (!effect) {
    Fail("retrying", status + " with an unusable reply: " + effect.error(), backoff_.Next());
    return;
  }
  // Refused for good first: moving them out (and closing their epoch) is one transaction,
  // so whatever happens next, nothing is lost and nothing after them waits on them.
  for (const auto& refused : effect->refused) {
    if (!SetAside(spool, batch.epoch, refused.seq, "refused by the receiver: " + refused.reason)) {
      return;
    }
  }
  std::int64_t removed = 0;
  if (effect->remove_up_to > 0) {
    auto gone = spool.Remove(batch.epoch, 1, effect->remove_up_to);
    if (!gone) {
      Fail("spool unavailable", "cannot remove acknowledged records: " + gone.error(),
           kReopenDelay);
      return;
    }
    removed += *gone;
  }
  if (effect->remove_batch) {
    auto gone = spool.Remove(batch.epoch, batch.first_seq, batch.last_seq);
    if (!gone) {
      Fail("spool unavailable", "cannot remove acknowledged records: " + gone.error(),
           kReopenDelay);
      return;
    }
    removed += *gone;
  }
  if (effect->start_new_epoch) {
    auto epoch = spool.StartNewEpoch(effect->new_epoch_at_least);
    if (!epoch) {
      Fail("spool unavailable", "cannot start a new epoch: " + epoch.error(), kReopenDelay);
      return;
    }
    spdlog::warn(
        "push: the receiver holds records of epoch {} that this spool never made (it was lost "
        "or restored from an old copy; {} fork(s) reported); new records go to epoch {}",
        batch.epoch, ack->forks.size(), *epoch);
  }
  if (!effect->unplaced.empty()) {
    Fail("refused",
         "the receiver rejected " + std::to_string(effect->unplaced.size()) +
             " record(s) it did not name, first: " + Describe(effect->unplaced.front()) +
             "; they stay in the spool",
         upstream_.refused_retry);
    return;
  }
  errors_.Clear("push");
  backoff_.Reset();
  std::lock_guard lock(mutex_);
  state_ = "sending";
  failures_ = 0;
  acknowledged_ += removed;
  last_ack_ = Now();
}

}  // namespace fleet
