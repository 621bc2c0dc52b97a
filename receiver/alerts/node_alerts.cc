#include "receiver/alerts/node_alerts.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "alerting/runbook.h"
#include "base/json_text.h"
#include "base/units.h"
#include "base/utc_time.h"
#include "receiver/core/live_arrival.h"

namespace fleet::receiver {
namespace {

using alerting::Level;
using alerting::Notice;
using alerting::NoticeKind;
using json = nlohmann::json;

}  // namespace

void NodeAlerts::Collect(const std::vector<Notice>& notices,
                         std::optional<std::int64_t> resolved_at, const std::string& ack_source,
                         std::vector<NoticeEvent>& out) const {
  for (const Notice& notice : notices) {
    const alerting::BookAlert* alert = book_.Find(notice.alert);
    if (alert == nullptr) {
      auto gone = book_.just_resolved().find(notice.alert);
      if (gone == book_.just_resolved().end()) continue;
      alert = &gone->second;
    }
    NoticeEvent event{notice, *alert, std::nullopt, {}};
    if (notice.kind == NoticeKind::kResolved) event.resolved_at = resolved_at;
    if (notice.kind == NoticeKind::kAcknowledged) event.ack_source = ack_source;
    out.push_back(std::move(event));
  }
}

void NodeAlerts::Apply(const FeedEvent& e) {
  switch (e.kind) {
    case FeedEvent::Kind::kIncident: {
      if (e.closed) {
        auto followed = incidents_.find(e.incident);
        if (followed == incidents_.end()) return;  // late, or never seen open
        if (followed->second.observed) {
          // The node's time of closing, unless it is before the opening.
          closing_.push_back({followed->second.check, std::max(*e.closed, e.opened)});
        }
        incidents_.erase(followed);
        return;
      }
      // Only an incident that arrived live pages anyone; a late one is history.
      if (!ArrivedLive(e.opened, e.received_at)) return;
      incidents_[e.incident] = {e.check, e.opened, e.summary, false};
      return;
    }
    case FeedEvent::Kind::kAck:
      acks_.push_back({e.incident, {e.by, e.via, e.at, e.note}});
      return;
    case FeedEvent::Kind::kMaintenance:
      // The node's latest word on its window (one ended early is a record ending now).
      book_.SetMaintenance(e.until);
      return;
  }
}

void NodeAlerts::Sync(std::int64_t now, std::vector<NoticeEvent>& out) {
  for (const Closing& c : closing_) {
    std::vector<Notice> notices;
    book_.Observe(c.check, Level::kOk, "", "", now, notices);
    Collect(notices, std::min(c.at, now), "", out);
  }
  closing_.clear();
  for (auto& [id, f] : incidents_) {
    if (f.observed) continue;
    f.observed = true;
    std::vector<Notice> notices;
    book_.Observe(f.check, Level::kCritical, f.summary, alerting::RunbookFix(f.check), now, notices,
                  f.opened);
    Collect(notices, std::nullopt, "", out);
  }
  for (const NodeAck& a : acks_) {
    auto followed = incidents_.find(a.incident);
    if (followed == incidents_.end()) continue;  // not an incident of an alert we hold
    const std::int64_t alert = book_.AlertOf(followed->second.check);
    if (alert == 0) continue;
    alerting::Acknowledgement ack = a.ack;
    ack.at = std::min(ack.at, now);
    std::vector<Notice> notices;
    book_.Acknowledge(alert, ack, notices);
    Collect(notices, std::nullopt, "node", out);
  }
  acks_.clear();
}

bool NodeAlerts::SeeBeat(const LiveBeat& beat) {
  if (beat_ && beat.received_at <= beat_->received_at) return false;
  beat_ = beat;
  return true;
}

std::string NodeAlerts::SilentSummary(std::int64_t now) const {
  const std::int64_t quiet = now - beat_->received_at;
  return "no heartbeat for " + FormatDuration(std::chrono::seconds(quiet - quiet % 60)) +
         ", the last at " + FormatUtc(beat_->received_at);
}

void NodeAlerts::CheckSilence(std::int64_t now, std::int64_t silent_after,
                              std::vector<NoticeEvent>& out) {
  if (!beat_) return;  // never heard live: nothing to miss
  const std::int64_t quiet = now - beat_->received_at;
  std::vector<Notice> notices;
  if (quiet >= silent_after) {
    // Observed again each minute it lasts, so a reminder tells how long it has been.
    const std::string summary = SilentSummary(now);
    if (silent_ && summary == silent_summary_) return;
    silent_ = true;
    silent_summary_ = summary;
    const std::string check(kSilentCheck);
    book_.Observe(check, Level::kCritical, summary, alerting::RunbookFix(check), now, notices,
                  beat_->received_at);
    Collect(notices, std::nullopt, "", out);
  } else if (silent_) {
    silent_ = false;
    silent_summary_.clear();
    book_.Observe(std::string(kSilentCheck), Level::kOk, "", "", now, notices);
    Collect(notices, std::min(beat_->received_at, now), "", out);
  }
}

void NodeAlerts::Retire(std::int64_t now, std::vector<NoticeEvent>& out) {
  std::vector<std::string> checks;
  for (const auto& [id, followed] : incidents_) checks.push_back(followed.check);
  for (const auto& c : closing_) checks.push_back(c.check);
  if (silent_) checks.emplace_back(kSilentCheck);
  incidents_.clear();
  closing_.clear();
  acks_.clear();
  silent_ = false;
  silent_summary_.clear();
  beat_.reset();
  for (const auto& check : checks) {
    std::vector<Notice> notices;
    book_.Forget(check, now, notices);
    Collect(notices, now, "", out);
  }
}

void NodeAlerts::Tick(std::int64_t now, std::vector<NoticeEvent>& out) {
  std::vector<Notice> notices;
  book_.Tick(now, notices);
  Collect(notices, now, "", out);
}

alerting::AckResult NodeAlerts::Acknowledge(std::int64_t book_alert,
                                            const alerting::Acknowledgement& ack,
                                            std::vector<NoticeEvent>& out) {
  std::vector<Notice> notices;
  const alerting::AckResult result = book_.Acknowledge(book_alert, ack, notices);
  Collect(notices, std::nullopt, "receiver", out);
  return result;
}

std::vector<std::int64_t> NodeAlerts::IncidentsOf(
    const std::vector<alerting::AlertCheck>& checks) const {
  std::vector<std::int64_t> ids;
  for (const auto& [id, followed] : incidents_) {
    for (const auto& check : checks) {
      if (check.name == followed.check) ids.push_back(id);
    }
  }
  return ids;
}

const SentAlert* NodeAlerts::Sent(std::int64_t book_alert) const {
  auto it = sent_.find(book_alert);
  return it == sent_.end() ? nullptr : &it->second;
}

std::string NodeAlerts::Save() const {
  json incidents = json::object();
  for (const auto& [id, f] : incidents_) {
    incidents[std::to_string(id)] = {
        {"check", f.check}, {"opened", f.opened}, {"summary", f.summary}, {"observed", f.observed}};
  }
  json closing = json::array();
  for (const auto& c : closing_) closing.push_back({{"check", c.check}, {"at", c.at}});
  json acks = json::array();
  for (const auto& a : acks_) {
    acks.push_back({{"incident", a.incident},
                    {"by", a.ack.by},
                    {"via", a.ack.via},
                    {"at", a.ack.at},
                    {"note", a.ack.note ? json(*a.ack.note) : json()}});
  }
  json sent = json::object();
  for (const auto& [id, s] : sent_) {
    sent[std::to_string(id)] = {{"key", s.key}, {"channels", s.channels}};
  }
  return DumpJson({{"v", 1},
                   {"book", book_.Save()},
                   {"incidents", incidents},
                   {"closing", closing},
                   {"acks", acks},
                   {"silent", silent_},
                   {"silent_summary", silent_summary_},
                   {"sent", sent}});
}

std::string NodeAlerts::Fingerprint() const {
  json saved = json::parse(Save());
  saved["book"].erase("last_now");
  return DumpJson(saved);
}

Result<NodeAlerts> NodeAlerts::Load(std::string node, std::string_view text,
                                    const alerting::AlertPolicy& policy) {
  const json saved = json::parse(text, nullptr, false);
  if (!saved.is_object() || saved.value("v", 0) != 1 || !saved.contains("book")) {
    return Error{"the saved alert state of " + node + " is not version 1"};
  }
  auto book = alerting::AlertBook::Load(saved["book"], policy);
  if (!book) return Error{node + ": " + book.error()};
  NodeAlerts state(std::move(node), policy);
  state.book_ = std::move(book).value();
  // nlohmann's typed getters throw on a wrong type: caught here, never past this module.
  try {
    for (const auto& [id, f] : saved.at("incidents").items()) {
      state.incidents_[std::stoll(id)] = {
          f.at("check").get<std::string>(), f.at("opened").get<std::int64_t>(),
          f.at("summary").get<std::string>(), f.at("observed").get<bool>()};
    }
    for (const auto& c : saved.at("closing")) {
      state.closing_.push_back({c.at("check").get<std::string>(), c.at("at").get<std::int64_t>()});
    }
    for (const auto& a : saved.at("acks")) {
      alerting::Acknowledgement ack{a.at("by").get<std::string>(), a.at("via").get<std::string>(),
                                    a.at("at").get<std::int64_t>(), std::nullopt};
      if (!a.at("note").is_null()) ack.note = a.at("note").get<std::string>();
      state.acks_.push_back({a.at("incident").get<std::int64_t>(), std::move(ack)});
    }
    state.silent_ = saved.at("silent").get<bool>();
    state.silent_summary_ = saved.at("silent_summary").get<std::string>();
    for (const auto& [id, s] : saved.at("sent").items()) {
      state.sent_[std::stoll(id)] = {s.at("key").get<std::int64_t>(),
                                     s.at("channels").get<std::vector<std::string>>()};
    }
  } catch (const std::exception& e) {
    return Error{"the saved alert state of " + state.node_ + ": " + e.what()};
  }
  return state;
}

}  // namespace fleet::receiver
