#include "receiver/alerts/alert_worker.h"

#include <spdlog/spdlog.h>

#include <set>

#include "receiver/alerts/alert_feed.h"
#include "receiver/alerts/alert_history.h"
#include "receiver/alerts/alert_leases.h"
#include "receiver/alerts/alert_outbox.h"
#include "receiver/alerts/alert_requests.h"
#include "receiver/alerts/operator_channels.h"
#include "receiver/core/live_arrival.h"

namespace fleet::receiver {
namespace {

using alerting::NoticeKind;

std::string CheckNames(const std::vector<alerting::AlertCheck>& checks) {
  std::string out;
  for (const auto& c : checks) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

}  // namespace

struct AlertWorker::Read {
  std::map<std::string, Registered> registry;
  AlertRoutes routes;
  FeedRead feed;
  std::set<std::string> behind;  // nodes with records still to read
};

AlertWorker::AlertWorker(SqlLink& link, std::string holder, WorkerSettings settings)
    : link_(link), holder_(std::move(holder)), settings_(std::move(settings)) {}

void AlertWorker::Configure(const WorkerSettings& settings) {
  settings_ = settings;
  for (auto& [node, state] : nodes_) state.set_policy(settings_.policy);
}

Outcome AlertWorker::Resign() {
  loaded_ = false;
  nodes_.clear();
  return AlertLeases(link_).Release(kWorkerLease, holder_);
}

Outcome AlertWorker::LoadStates(std::int64_t now) {
  nodes_.clear();
  saved_.clear();
  seen_.clear();
  since_.clear();
  auto rows = link_.Run(
      "SELECT n.node, n.state, n.since, n.seen, b.received, b.minute FROM alert_nodes n "
      "LEFT JOIN alert_beats b ON b.node = n.node");
  if (!rows) return Error{"loading the alert states: " + rows.error()};
  for (int i = 0; i < rows->size(); ++i) {
    const std::string node = rows->Text(i, 0);
    auto loaded = NodeAlerts::Load(node, rows->Text(i, 1), settings_.policy);
    if (!loaded) {
      spdlog::warn("alerting: {}; its alert rules start afresh", loaded.error());
      nodes_.emplace(node, NodeAlerts(node, settings_.policy));
    } else {
      nodes_.emplace(node, std::move(loaded).value());
      saved_[node] = nodes_.at(node).Fingerprint();
    }
    since_[node] = rows->Int(i, 2);
    seen_[node] = rows->Int(i, 3);
    if (!rows->IsNull(i, 4)) nodes_.at(node).SeeBeat({rows->Int(i, 4), rows->Int(i, 5)});
  }
  (void)now;
  loaded_ = true;
  return Success();
}

NodeAlerts& AlertWorker::StateOf(const std::string& node, std::int64_t now) {
  auto it = nodes_.find(node);
  if (it != nodes_.end()) return it->second;
  since_[node] = now;
  seen_[node] = 0;
  return nodes_.emplace(node, NodeAlerts(node, settings_.policy)).first->second;
}

Result<AlertWorker::Read> AlertWorker::ReadInput(std::int64_t now) {
  Read read;
  auto nodes = link_.Run("SELECT node, operator, revoked_at FROM nodes");
  if (!nodes) return Error{"reading the registry: " + nodes.error()};
  for (int i = 0; i < nodes->size(); ++i) {
    // Revoked from its revocation time on (a revocation may be set for later).
    const auto revoked_at = nodes->IntOr(i, 2);
    read.registry[nodes->Text(i, 0)] = {nodes->Text(i, 1), revoked_at && *revoked_at <= now};
  }
  auto channels = OperatorChannels(link_).All();
  if (!channels) return Error{channels.error()};
  read.routes.foundation = settings_.foundation;
  for (const auto& row : *channels) {
    auto& list = read.routes.operators[row.operator_id];
    if (settings_.telegram && row.telegram_chat)
      list.push_back(ChannelName(row.operator_id, "telegram"));
    if (row.discord_webhook) list.push_back(ChannelName(row.operator_id, "discord"));
  }
  auto feed = AlertFeed(link_).Read(kFeedChunk, kLiveWithinSeconds);
  if (!feed) return Error{feed.error()};
  read.feed = std::move(feed).value();
  for (const FeedRange& range : read.feed.ranges) {
    if (range.more) read.behind.insert(range.node);
  }
  return read;
}

Result<WorkerStep> AlertWorker::Step(std::int64_t now) {
  WorkerStep step;
  auto taken = AlertLeases(link_).Take(kWorkerLease, holder_, now, kWorkerLeaseSeconds);
  if (!taken) return Error{taken.error()};
  if (!*taken) {
    loaded_ = false;  // another receiver works: its state is the one to load when ours
    nodes_.clear();
    return step;
  }
  step.leader = true;
  if (!loaded_) {
    if (auto done = LoadStates(now); !done) return Error{done.error()};
  }
  auto read = ReadInput(now);
  if (!read) return Error{read.error()};
  step.behind = !read->behind.empty();
  auto applied = InTransaction(link_, [&] { return Apply(*read, now, step); });
  if (!applied) {
    loaded_ = false;  // memory may be ahead of the database: load it again
    nodes_.clear();
    return Error{applied.error()};
  }
  if (now - pruned_at_ >= 3600 || now < pruned_at_) {
    pruned_at_ = now;
    if (auto done = AlertOutbox(link_).Prune(now - kKeepOutbox); !done) return Error{done.error()};
    if (auto done = AlertRequests(link_).Prune(now - kKeepRequests); !done) {
      return Error{done.error()};
    }
  }
  return step;
}

Outcome AlertWorker::Apply(const Read& read, std::int64_t now, WorkerStep& step) {
  auto fenced = AlertLeases(link_).Renew(kWorkerLease, holder_, now, kWorkerLeaseSeconds);
  if (!fenced) return Error{fenced.error()};
  if (!*fenced) return Error{"the worker lease went to another receiver"};
  std::map<std::string, std::vector<NoticeEvent>> events;
  std::map<std::string, LiveBeat> beats;  // the nodes whose last live heartbeat moved
  for (const FeedRange& range : read.feed.ranges) {
    NodeAlerts& state = StateOf(range.node, now);
    const FeedRead::Key key{range.node, range.epoch};
    if (auto read_events = read.feed.events.find(key); read_events != read.feed.events.end()) {
      for (const FeedEvent& e : read_events->second) state.Apply(e);
    }
    if (auto beat = read.feed.beats.find(key); beat != read.feed.beats.end()) {
      if (state.SeeBeat(beat->second)) beats[range.node] = *state.beat();
    }
  }
  if (auto saved = AlertFeed(link_).SaveCursors(read.feed.ranges); !saved) return saved;
  if (auto saved = SaveBeats(beats); !saved) return saved;
  if (auto answered = AnswerRequests(now, events, step); !answered) return answered;
  for (const auto& [node, reg] : read.registry) {
    if (!reg.revoked) StateOf(node, now);
  }
  for (auto& [node, state] : nodes_) {
    auto reg = read.registry.find(node);
    if (reg == read.registry.end() || reg->second.revoked) {
      state.Retire(now, events[node]);
    } else if (!read.behind.contains(node)) {
      state.Sync(now, events[node]);
      state.CheckSilence(now, settings_.silent_after, events[node]);
    }
    if (!read.behind.contains(node)) state.Tick(now, events[node]);
  }
  for (const auto& [node, list] : events) {
    if (list.empty()) continue;
    if (auto told = Notify(node, list, read, now, step); !told) return told;
  }
  for (auto& [node, state] : nodes_) {
    std::string fingerprint = state.Fingerprint();
    if (fingerprint == saved_[node] && now - seen_[node] < kSeenEvery) continue;
    auto done = link_.Run(
        "INSERT INTO alert_nodes (node, state, since, seen) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (node) DO UPDATE SET state = excluded.state, seen = excluded.seen",
        {node, state.Save(), since_[node], now});
    if (!done) return Error{"saving the alert state of " + node + ": " + done.error()};
    saved_[node] = std::move(fingerprint);
    seen_[node] = now;
  }
  auto dropped = AlertOutbox(link_).Bound(now);
  if (!dropped) return Error{dropped.error()};
  step.dropped = *dropped;
  return Success();
}

Outcome AlertWorker::AnswerRequests(std::int64_t now,
                                    std::map<std::string, std::vector<NoticeEvent>>& events,
                                    WorkerStep& step) {
  AlertRequests requests(link_);
  auto pending = requests.Pending();
  if (!pending) return Error{pending.error()};
  AlertHistory history(link_);
  for (const PendingRequest& request : *pending) {
    RequestAnswer answer{false, "a request this receiver cannot read"};
    if (request.ack) {
      const AckRequest& ack = *request.ack;
      const std::string name = "alert " + std::to_string(ack.key);
      auto entry = history.Find(ack.key);
      if (!entry) return Error{entry.error()};
      auto state = *entry ? nodes_.find((*entry)->node) : nodes_.end();
      const SentAlert* sent =
          state != nodes_.end() ? state->second.Sent((*entry)->book_alert) : nullptr;
      if (!*entry) {
        answer.text = "no " + name + " (see fleet-receiver alerts)";
      } else if ((*entry)->resolved) {
        answer.text = name + " on " + (*entry)->node + " is resolved already";
      } else if (sent == nullptr || sent->key != ack.key) {
        answer.text = name + " on " + (*entry)->node + " is no longer open";
      } else {
        std::string checks;
        for (const auto& c : (*entry)->checks) checks += (checks.empty() ? "" : ", ") + c;
        const alerting::AckResult result = state->second.Acknowledge(
            (*entry)->book_alert, {ack.by, ack.via, ack.at, ack.note}, events[(*entry)->node]);
        switch (result) {
          case alerting::AckResult::kAcknowledged:
            answer = {true, "Acknowledged " + name + " (" + checks + ") on " + (*entry)->node};
            spdlog::info("{} ({}) on {} acknowledged by {} via {}", name, checks, (*entry)->node,
                         ack.by, ack.via);
            break;
          case alerting::AckResult::kAlreadyAcknowledged: {
            const alerting::BookAlert* held = state->second.book().Find((*entry)->book_alert);
            answer.text = name + " was acknowledged already" +
                          (held && held->ack ? " by " + held->ack->by : std::string());
            break;
          }
          case alerting::AckResult::kUnknownAlert:
            answer.text = name + " on " + (*entry)->node + " is no longer open";
            break;
        }
      }
    }
    if (auto done = requests.Answer(request.id, answer, now); !done) return done;
    ++step.answered;
  }
  return Success();
}

Outcome AlertWorker::Notify(const std::string& node, const std::vector<NoticeEvent>& list,
                            const Read& read, std::int64_t now, WorkerStep& step) {
  NodeAlerts& state = StateOf(node, now);
  auto reg = read.registry.find(node);
  const std::string operator_id = reg != read.registry.end() ? reg->second.operator_id : "";
  AlertHistory history(link_);
  AlertOutbox outbox(link_);
  for (const NoticeEvent& event : list) {
    const NoticeKind kind = event.notice.kind;
    const SentAlert* known = state.Sent(event.alert.id);
    SentAlert sent = known != nullptr ? *known : SentAlert{};
    if (known == nullptr) {
      if (kind == NoticeKind::kAcknowledged || kind == NoticeKind::kResolved) continue;
      HistoryEntry entry;
      entry.node = node;
      entry.operator_id = operator_id;
      entry.book_alert = event.alert.id;
      for (const auto& c : event.alert.checks) entry.checks.push_back(c.name);
      entry.incidents = state.IncidentsOf(event.alert.checks);
      entry.silent = std::find(entry.checks.begin(), entry.checks.end(),
                               std::string(kSilentCheck)) != entry.checks.end();
      entry.opened = event.alert.opened;
      entry.sent = now;
      auto key = history.Add(entry);
      if (!key) return Error{key.error()};
      sent.key = *key;
    }
    const std::size_t told = sent.channels.size();
    std::vector<OutboxMessage> messages =
        MessagesOf(event, node, sent.key, operator_id, read.routes, sent.channels, now);
    if (messages.empty() && kind == NoticeKind::kOpened) {
      spdlog::warn(
          "alerting: alert {} ({}) on {} goes nowhere: operator {} has no channel and the "
          "foundation has none",
          sent.key, CheckNames(event.alert.checks), node, operator_id);
    }
    if (sent.channels.size() != told) {
      if (auto done = history.SetChannels(sent.key, sent.channels); !done) return done;
    }
    if (kind == NoticeKind::kAcknowledged && event.alert.ack) {
      const auto& ack = *event.alert.ack;
      if (auto done =
              history.SetAck(sent.key, {ack.at, ack.by, ack.via, ack.note, event.ack_source});
          !done) {
        return done;
      }
    }
    if (kind == NoticeKind::kResolved) {
      if (auto done = history.SetResolved(sent.key, event.resolved_at.value_or(now)); !done) {
        return done;
      }
      state.DropSent(event.alert.id);
    } else {
      state.SetSent(event.alert.id, sent);
    }
    if (auto queued = outbox.Queue(messages, now); !queued) return queued;
    step.queued += static_cast<std::int64_t>(messages.size());
  }
  return Success();
}

Outcome AlertWorker::SaveBeats(const std::map<std::string, LiveBeat>& beats) {
  constexpr std::size_t kPerStatement = 200;
  auto it = beats.begin();
  while (it != beats.end()) {
    std::string sql = "INSERT INTO alert_beats (node, received, minute) VALUES ";
    SqlParams params;
    for (std::size_t n = 0; n < kPerStatement && it != beats.end(); ++n, ++it) {
      const int p = static_cast<int>(params.size());
      sql += (n == 0 ? "" : ", ") + std::string("($") + std::to_string(p + 1) + ", $" +
             std::to_string(p + 2) + ", $" + std::to_string(p + 3) + ")";
      params.emplace_back(it->first);
      params.emplace_back(it->second.received_at);
      params.emplace_back(it->second.minute);
    }
    sql +=
        " ON CONFLICT (node) DO UPDATE SET received = excluded.received, "
        "minute = excluded.minute";
    auto done = link_.Run(sql, params);
    if (!done) return Error{"saving the heartbeats seen: " + done.error()};
  }
  return Success();
}

}  // namespace fleet::receiver
