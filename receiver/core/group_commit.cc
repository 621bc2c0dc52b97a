#include "receiver/core/group_commit.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace fleet::receiver {
namespace {

IngestReply Unavailable(const std::string& why) {
  return {503, nlohmann::json{{"error", "storing the batch: " + why}}, true};
}

}  // namespace

GroupCommitter::GroupCommitter(RecordStore& store, std::function<std::int64_t()> clock,
                               Limits limits)
    : store_(store), clock_(std::move(clock)), limits_(limits), writer_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() { Stop(); }

void GroupCommitter::Submit(PreparedBatch batch, std::function<void(IngestReply)> done) {
  if (batch.refused) return done(*batch.refused);
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back({std::move(batch), std::move(done), nullptr});
      wake_.notify_one();
      return;
    }
  }
  done(Unavailable("the receiver is stopping"));
}

void GroupCommitter::Ping(std::function<void(Outcome)> done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back({PreparedBatch{}, nullptr, std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(Error{"the receiver is stopping"});
}

void GroupCommitter::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
}

GroupCommitStats GroupCommitter::Stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void GroupCommitter::Run() {
  for (;;) {
    std::deque<Job> group;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      std::size_t records = 0;
      while (
          !queue_.empty() && group.size() < limits_.max_batches &&
          (group.empty() || records + queue_.front().batch.records.size() <= limits_.max_records)) {
        records += queue_.front().batch.records.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunGroup(group);
  }
  std::deque<Job> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  for (auto& job : left) {
    if (job.ping) {
      job.ping(Error{"the receiver is stopping"});
    } else {
      job.done(Unavailable("the receiver is stopping"));
    }
  }
}

void GroupCommitter::RunGroup(std::deque<Job>& group) {
  std::vector<Job*> jobs;
  for (auto& job : group) {
    if (job.ping) {
      job.ping(store_.Ping());
    } else {
      jobs.push_back(&job);
    }
  }
  // By node and epoch, keeping each node's batches in arrival order.
  auto batch = [&](std::size_t i) -> const PreparedBatch& { return jobs[i]->batch; };
  std::vector<std::size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& ra = batch(a).records.front();
    const auto& rb = batch(b).records.front();
    return std::tie(ra.node, ra.epoch) < std::tie(rb.node, rb.epoch);
  });

  std::vector<IngestReply> replies(jobs.size());
  bool failed = jobs.size() < 2;  // one batch alone takes the replaying path directly
  std::int64_t transactions = 0;
  if (!failed) failed = !store_.Begin().ok();
  for (std::size_t i = 0; !failed && i < order.size(); ++i) {
    replies[order[i]] = ApplyBatch(store_, batch(order[i]), clock_());
    failed = replies[order[i]].store_failed;
  }
  if (!failed) failed = !TimedCommit().ok();
  std::int64_t replays = 0;
  if (failed) {
    if (jobs.size() >= 2) {
      store_.Rollback();
      replays += static_cast<std::int64_t>(jobs.size());
    }
    for (std::size_t i : order) {
      replies[i] = RunAlone(batch(i));
      if (!replies[i].store_failed) ++transactions;
    }
  } else if (!jobs.empty()) {
    transactions = 1;
  }
  {
    std::lock_guard lock(mutex_);
    stats_.transactions += transactions;
    stats_.batches += static_cast<std::int64_t>(jobs.size());
    stats_.replays += replays;
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) jobs[i]->done(std::move(replies[i]));
}

Outcome GroupCommitter::TimedCommit() {
  const auto start = std::chrono::steady_clock::now();
  Outcome committed = store_.Commit();
  if (on_commit_) on_commit_(std::chrono::steady_clock::now() - start);
  return committed;
}

IngestReply GroupCommitter::RunAlone(const PreparedBatch& batch) {
  IngestReply reply;
  for (int attempt = 0; attempt <= kReplays; ++attempt) {
    if (auto begun = store_.Begin(); !begun) {
      reply = Unavailable(begun.error());
    } else {
      reply = ApplyBatch(store_, batch, clock_());
      if (!reply.store_failed) {
        if (auto committed = TimedCommit(); !committed) reply = Unavailable(committed.error());
      }
    }
    if (!reply.store_failed) return reply;
    const bool retryable = store_.LastFailureRetryable();
    store_.Rollback();
    if (!retryable) return reply;
    std::lock_guard lock(mutex_);
    ++stats_.replays;
  }
  return reply;
}

}  // namespace fleet::receiver
