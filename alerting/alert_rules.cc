#include "alerting/alert_rules.h"

#include "alerting/alert_json.h"

#include <algorithm>

namespace fleet::alerting {
namespace {

using json = nlohmann::json;

// Saved states larger than this many checks or alerts are refused (a node has a handful).
constexpr std::size_t kMaxSaved = 10000;

Severity SeverityOf(Level level) {
  return level == Level::kCritical ? Severity::kCritical : Severity::kWarning;
}

std::optional<Severity> SeverityOf(const json& j) {
  return j.is_string() ? ParseSeverity(j.get<std::string>()) : std::nullopt;
}

}  // namespace

std::string_view NoticeKindName(NoticeKind kind) {
  switch (kind) {
    case NoticeKind::kOpened:
      return "opened";
    case NoticeKind::kReminder:
      return "reminder";
    case NoticeKind::kEscalated:
      return "escalated";
    case NoticeKind::kFlapping:
      return "flapping";
    case NoticeKind::kAcknowledged:
      return "acknowledged";
    case NoticeKind::kUpdated:
      return "updated";
    case NoticeKind::kResolved:
      break;
  }
  return "resolved";
}

bool AlertBook::IsBad(Level level) const {
  if (level == Level::kCritical) return true;
  return level == Level::kWarning && policy_.min_severity == Severity::kWarning;
}

// A flapping check counts as settled once it has not changed for this long.
std::int64_t AlertBook::StableAfter() const {
  return std::max(policy_.confirm, policy_.flap_window / 4);
}

const BookAlert* AlertBook::Find(std::int64_t alert) const {
  auto it = alerts_.find(alert);
  return it == alerts_.end() ? nullptr : &it->second;
}

std::int64_t AlertBook::AlertOf(const std::string& check) const {
  auto it = tracks_.find(check);
  return it == tracks_.end() ? 0 : it->second.alert;
}

void AlertBook::Emit(NoticeKind kind, BookAlert& alert, std::int64_t now,
                     std::vector<Notice>& out) {
  out.push_back({kind, alert.id});
  if (kind == NoticeKind::kOpened || kind == NoticeKind::kReminder ||
      kind == NoticeKind::kFlapping || kind == NoticeKind::kUpdated) {
    if (alert.notified == 0) alert.notified = now;
    alert.last_notice = now;
  }
}

// The alert's checks as last observed (a check keeps its last bad summary once fine).
void AlertBook::RefreshChecks(BookAlert& alert) const {
  Severity highest = Severity::kWarning;
  for (AlertCheck& check : alert.checks) {
    auto it = tracks_.find(check.name);
    if (it != tracks_.end() && it->second.bad) {
      check.severity = it->second.severity;
      check.summary = it->second.summary;
      check.fix = it->second.fix;
    }
    if (it != tracks_.end() && !it->second.note.empty()) check.done = it->second.note;
    if (check.severity == Severity::kCritical) highest = Severity::kCritical;
  }
  alert.severity = highest;
}

void AlertBook::Observe(const std::string& check, Level level, const std::string& summary,
                        const std::string& fix, std::int64_t now, std::vector<Notice>& out,
                        std::optional<std::int64_t> bad_since) {
  just_resolved_.clear();
  FollowClock(now);
  if (level == Level::kUnknown) {  // could not look: neither broken nor fixed
    Step(now, out);
    return;
  }
  Track& track = tracks_[check];
  const bool bad = IsBad(level);
  if (bad != track.bad) {
    track.changes.push_back(now);
    track.bad = bad;
    if (bad) track.bad_since = bad_since ? std::min(*bad_since, now) : now;
  }
  if (bad) {
    track.severity = SeverityOf(level);
    track.summary = summary;
    track.fix = fix;
  }
  std::erase_if(track.changes, [&](std::int64_t t) { return t <= now - policy_.flap_window; });
  if (!track.flapping && static_cast<int>(track.changes.size()) >= policy_.flap_changes) {
    track.flapping = true;
    if (track.alert == 0) {
      BookAlert alert;
      alert.id = next_id_++;
      alert.checks.push_back({check, track.severity, track.summary, track.fix, track.note});
      alert.opened = track.bad_since != 0 ? track.bad_since : now;
      track.alert = alert.id;
      alerts_[alert.id] = std::move(alert);
    }
    BookAlert& alert = alerts_.at(track.alert);
    if (!alert.flapping) {
      alert.flapping = true;
      if (!InMaintenance(now)) Emit(NoticeKind::kFlapping, alert, now, out);
    }
  }
  if (track.alert != 0) {
    BookAlert& alert = alerts_.at(track.alert);
    const Severity before = alert.severity;
    RefreshChecks(alert);
    // A warning alert that turns critical is told again at once.
    if (before == Severity::kWarning && alert.severity == Severity::kCritical &&
        alert.notified != 0 && !alert.ack && !alert.flapping && !InMaintenance(now)) {
      Emit(NoticeKind::kReminder, alert, now, out);
    }
    if (!bad) ResolveIfFine(alert.id, out);
  }
  if (!bad && track.alert == 0) track.note.clear();  // fine, nothing open: the story is over
  Step(now, out);
}

void AlertBook::SetNote(const std::string& check, const std::string& note, bool tell,
                        std::int64_t now, std::vector<Notice>& out) {
  just_resolved_.clear();
  FollowClock(now);
  Track& track = tracks_[check];
  track.note = note;
  if (track.alert == 0) return;  // an alert that opens later shows it
  BookAlert& alert = alerts_.at(track.alert);
  for (AlertCheck& c : alert.checks) {
    if (c.name == check) c.done = note;
  }
  if (tell && alert.notified != 0 && !alert.ack && !alert.flapping && !InMaintenance(now)) {
    Emit(NoticeKind::kUpdated, alert, now, out);
  }
}

void AlertBook::Forget(const std::string& check, std::int64_t now, std::vector<Notice>& out) {
  just_resolved_.clear();
  FollowClock(now);
  auto it = tracks_.find(check);
  if (it == tracks_.end()) return;
  const std::int64_t alert = it->second.alert;
  it->second.bad = false;
  it->second.flapping = false;
  if (alert != 0) ResolveIfFine(alert, out);
  tracks_.erase(check);
  Step(now, out);
}

// Resolves the alert when every one of its checks is fine and none is still flapping.
void AlertBook::ResolveIfFine(std::int64_t id, std::vector<Notice>& out) {
  auto it = alerts_.find(id);
  if (it == alerts_.end()) return;
  BookAlert& alert = it->second;
  for (const AlertCheck& check : alert.checks) {
    auto track = tracks_.find(check.name);
    if (track != tracks_.end() && (track->second.bad || track->second.flapping)) return;
  }
  for (const AlertCheck& check : alert.checks) {
    if (auto track = tracks_.find(check.name); track != tracks_.end()) {
      track->second.alert = 0;
      track->second.note.clear();
    }
  }
  if (alert.notified != 0) out.push_back({NoticeKind::kResolved, id});
  just_resolved_[id] = std::move(alert);
  alerts_.erase(it);
}

// Flapping checks that have been stable long enough: settled.
void AlertBook::Settle(std::int64_t now, std::vector<Notice>& out) {
  std::vector<std::int64_t> touched;
  for (auto& [name, track] : tracks_) {
    std::erase_if(track.changes, [&](std::int64_t t) { return t <= now - policy_.flap_window; });
    if (!track.flapping) continue;
    const std::int64_t last_change = track.changes.empty() ? 0 : track.changes.back();
    if (now - last_change < StableAfter()) continue;
    track.flapping = false;
    track.changes.clear();
    if (track.alert != 0) touched.push_back(track.alert);
  }
  for (std::int64_t id : touched) {
    auto it = alerts_.find(id);
    if (it == alerts_.end()) continue;
    bool still_flapping = false;
    for (const AlertCheck& check : it->second.checks) {
      auto track = tracks_.find(check.name);
      still_flapping = still_flapping || (track != tracks_.end() && track->second.flapping);
    }
    if (still_flapping) continue;
    it->second.flapping = false;
    ResolveIfFine(id, out);
    // Still bad once stable: firing again, as a reminder of the alert already sent.
    auto open = alerts_.find(id);
    if (open != alerts_.end() && !open->second.ack && !InMaintenance(now)) {
      Emit(NoticeKind::kReminder, open->second, now, out);
    }
  }
}

// Bad checks past `confirm` open an alert, with every other bad check not yet in one.
void AlertBook::OpenDue(std::int64_t now, std::vector<Notice>& out) {
  bool due = false;
  for (const auto& [name, track] : tracks_) {
    due = due || (track.bad && track.alert == 0 && !track.flapping &&
                  now - track.bad_since >= policy_.confirm);
  }
  if (!due) return;
  BookAlert alert;
  alert.id = next_id_++;
  std::vector<std::pair<std::int64_t, std::string>> members;
  for (const auto& [name, track] : tracks_) {
    if (track.bad && track.alert == 0 && !track.flapping)
      members.emplace_back(track.bad_since, name);
  }
  std::sort(members.begin(), members.end());
  alert.opened = members.front().first;
  for (const auto& [since, name] : members) {
    Track& track = tracks_.at(name);
    track.alert = alert.id;
    alert.checks.push_back({name, track.severity, track.summary, track.fix, track.note});
  }
  RefreshChecks(alert);
  BookAlert& stored = alerts_[alert.id] = std::move(alert);
  if (!InMaintenance(now)) Emit(NoticeKind::kOpened, stored, now, out);
}

void AlertBook::Tick(std::int64_t now, std::vector<Notice>& out) {
  just_resolved_.clear();
  FollowClock(now);
  Step(now, out);
}

void AlertBook::FollowClock(std::int64_t now) {
  if (now >= last_now_) {
    last_now_ = now;
    return;
  }
  const std::int64_t back = last_now_ - now;
  for (auto& [name, track] : tracks_) {
    if (track.bad_since != 0) track.bad_since -= back;
    for (auto& t : track.changes) t -= back;
  }
  for (auto& [id, alert] : alerts_) {
    alert.opened -= back;
    if (alert.notified != 0) alert.notified -= back;
    if (alert.last_notice != 0) alert.last_notice -= back;
  }
  if (maintenance_until_ != 0) maintenance_until_ -= back;
  last_now_ = now;
}

void AlertBook::Step(std::int64_t now, std::vector<Notice>& out) {
  Settle(now, out);
  OpenDue(now, out);
  if (InMaintenance(now)) return;
  for (auto& [id, alert] : alerts_) {
    if (alert.flapping) continue;
    if (alert.notified == 0) {  // held back by maintenance, now over
      if (!alert.ack) Emit(NoticeKind::kOpened, alert, now, out);
      continue;
    }
    if (alert.ack) continue;
    if (policy_.escalate_after && !alert.escalated &&
        now - alert.notified >= *policy_.escalate_after) {
      alert.escalated = true;
      out.push_back({NoticeKind::kEscalated, id});
    }
    if (policy_.repeat > 0 && now - alert.last_notice >= policy_.repeat) {
      Emit(NoticeKind::kReminder, alert, now, out);
    }
  }
}

std::optional<std::int64_t> AlertBook::NextWake() const {
  std::optional<std::int64_t> wake;
  auto consider = [&](std::int64_t t) {
    if (!wake || t < *wake) wake = t;
  };
  for (const auto& [name, track] : tracks_) {
    if (track.bad && track.alert == 0 && !track.flapping) {
      consider(track.bad_since + policy_.confirm);
    }
    if (track.flapping) {
      consider((track.changes.empty() ? 0 : track.changes.back()) + StableAfter());
    }
  }
  if (maintenance_until_ != 0 && !alerts_.empty()) consider(maintenance_until_);
  for (const auto& [id, alert] : alerts_) {
    if (alert.flapping || alert.ack || alert.notified == 0) continue;
    if (policy_.escalate_after && !alert.escalated) {
      consider(alert.notified + *policy_.escalate_after);
    }
    if (policy_.repeat > 0) consider(alert.last_notice + policy_.repeat);
  }
  return wake;
}

AckResult AlertBook::Acknowledge(std::int64_t id, const Acknowledgement& ack,
                                 std::vector<Notice>& out) {
  just_resolved_.clear();
  auto it = alerts_.find(id);
  if (it == alerts_.end()) return AckResult::kUnknownAlert;
  if (it->second.ack) return AckResult::kAlreadyAcknowledged;
  it->second.ack = ack;
  if (it->second.notified != 0) out.push_back({NoticeKind::kAcknowledged, id});
  return AckResult::kAcknowledged;
}

Alert AlertBook::Render(const BookAlert& book, const std::string& node, NoticeKind kind,
                        std::optional<std::int64_t> resolved_at) {
  Alert alert;
  alert.key = std::to_string(book.id);
  alert.node = node;
  alert.checks = book.checks;
  alert.severity = book.severity;
  alert.opened = book.opened;
  if (book.ack) {
    alert.acked_by = book.ack->by;
    alert.acked_at = book.ack->at;
    alert.ack_note = book.ack->note;
  }
  switch (kind) {
    case NoticeKind::kOpened:
    case NoticeKind::kReminder:
    case NoticeKind::kEscalated:
    case NoticeKind::kUpdated:
      alert.state = book.ack ? AlertState::kAcknowledged : AlertState::kFiring;
      alert.reminder = kind == NoticeKind::kReminder;
      alert.update = kind == NoticeKind::kUpdated;
      alert.escalation = kind == NoticeKind::kEscalated;
      break;
    case NoticeKind::kFlapping:
      alert.state = AlertState::kFlapping;
      break;
    case NoticeKind::kAcknowledged:
      alert.state = AlertState::kAcknowledged;
      break;
    case NoticeKind::kResolved:
      alert.state = AlertState::kResolved;
      alert.resolved = resolved_at;
      break;
  }
  return alert;
}

json AlertBook::Save() const {
  json tracks = json::object();
  for (const auto& [name, t] : tracks_) {
    tracks[name] = {{"bad", t.bad},
                    {"severity", SeverityName(t.severity)},
                    {"bad_since", t.bad_since},
                    {"summary", t.summary},
                    {"fix", t.fix},
                    {"changes", t.changes},
                    {"flapping", t.flapping},
                    {"alert", t.alert},
                    {"note", t.note}};
  }
  json alerts = json::array();
  for (const auto& [id, a] : alerts_) {
    json checks = json::array();
    for (const auto& c : a.checks) {
      checks.push_back({{"name", c.name},
                        {"severity", SeverityName(c.severity)},
                        {"summary", c.summary},
                        {"fix", c.fix},
                        {"done", c.done}});
    }
    json ack = nullptr;
    if (a.ack) {
      ack = {{"by", a.ack->by}, {"via", a.ack->via}, {"at", a.ack->at}, {"note", nullptr}};
      if (a.ack->note) ack["note"] = *a.ack->note;
    }
    alerts.push_back({{"id", a.id},
                      {"checks", checks},
                      {"severity", SeverityName(a.severity)},
                      {"opened", a.opened},
                      {"notified", a.notified},
                      {"last_notice", a.last_notice},
                      {"escalated", a.escalated},
                      {"flapping", a.flapping},
                      {"ack", ack}});
  }
  return {{"v", 1},
          {"next_id", next_id_},
          {"maintenance_until", maintenance_until_},
          {"last_now", last_now_},
          {"tracks", tracks},
          {"alerts", alerts}};
}

Result<AlertBook> AlertBook::Load(const json& saved, AlertPolicy policy) {
  // nlohmann's typed getters throw on a wrong type: caught here, never past this module.
  try {
    if (!saved.is_object() || saved.value("v", 0) != 1) {
      return Error{"saved alert state: not version 1"};
    }
    AlertBook book(policy);
    book.next_id_ = saved.at("next_id").get<std::int64_t>();
    book.maintenance_until_ = saved.at("maintenance_until").get<std::int64_t>();
    book.last_now_ = saved.at("last_now").get<std::int64_t>();
    const json& tracks = saved.at("tracks");
    const json& alerts = saved.at("alerts");
    if (!tracks.is_object() || !alerts.is_array() || tracks.size() > kMaxSaved ||
        alerts.size() > kMaxSaved) {
      return Error{"saved alert state: tracks or alerts malformed"};
    }
    for (const auto& [name, t] : tracks.items()) {
      Track track;
      track.bad = t.at("bad").get<bool>();
      auto severity = SeverityOf(t.at("severity"));
      if (!severity) return Error{"saved alert state: bad severity"};
      track.severity = *severity;
      track.bad_since = t.at("bad_since").get<std::int64_t>();
      track.summary = t.at("summary").get<std::string>();
      track.fix = t.at("fix").get<std::string>();
      track.changes = t.at("changes").get<std::vector<std::int64_t>>();
      track.flapping = t.at("flapping").get<bool>();
      track.alert = t.at("alert").get<std::int64_t>();
      track.note = t.value("note", std::string());  // saved before the remedies: none
      book.tracks_[name] = std::move(track);
    }
    for (const json& a : alerts) {
      BookAlert alert;
      alert.id = a.at("id").get<std::int64_t>();
      for (const json& c : a.at("checks")) {
        auto severity = SeverityOf(c.at("severity"));
        if (!severity) return Error{"saved alert state: bad severity"};
        alert.checks.push_back({c.at("name").get<std::string>(), *severity,
                                c.at("summary").get<std::string>(), c.at("fix").get<std::string>(),
                                c.value("done", std::string())});
      }
      auto severity = SeverityOf(a.at("severity"));
      if (!severity || alert.checks.empty() || alert.id <= 0 || alert.id >= book.next_id_) {
        return Error{"saved alert state: alert malformed"};
      }
      alert.severity = *severity;
      alert.opened = a.at("opened").get<std::int64_t>();
      alert.notified = a.at("notified").get<std::int64_t>();
      alert.last_notice = a.at("last_notice").get<std::int64_t>();
      alert.escalated = a.at("escalated").get<bool>();
      alert.flapping = a.at("flapping").get<bool>();
      if (const json& ack = a.at("ack"); !ack.is_null()) {
        Acknowledgement parsed{ack.at("by").get<std::string>(), ack.at("via").get<std::string>(),
                               ack.at("at").get<std::int64_t>(), std::nullopt};
        if (!ack.at("note").is_null()) parsed.note = ack.at("note").get<std::string>();
        alert.ack = std::move(parsed);
      }
      book.alerts_[alert.id] = std::move(alert);
    }
    // Every track's alert must exist, or it would never open again.
    for (auto& [name, track] : book.tracks_) {
      if (track.alert != 0 && book.alerts_.count(track.alert) == 0) track.alert = 0;
    }
    return book;
  } catch (const json::exception& e) {
    return Error{std::string("saved alert state: ") + e.what()};
  }
}

}  // namespace fleet::alerting
