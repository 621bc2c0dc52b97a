#include "protocol/records.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/json_text.h"
#include "protocol/jws.h"

namespace fleet::protocol {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 9> kTypeNames = {"heartbeat",   "task",        "incident",
                                                        "agent_start", "agent_stop",  "ack",
                                                        "maintenance", "remediation", "key_rotate"};
static_assert(kTypeNames.size() == std::variant_size_v<RecordBody>);
constexpr std::array<std::string_view, 4> kStateNames = {"ok", "warning", "critical", "unknown"};
constexpr std::array<std::string_view, 3> kViaNames = {"telegram", "cli", "receiver"};
constexpr std::array<std::string_view, 7> kActionNames = {
    "restart_unit", "create_session", "respawn_pane",   "interrupt_pane",
    "remove_files", "run_script",     "quarantine_file"};
constexpr std::array<std::string_view, 4> kOutcomeNames = {"succeeded", "failed", "dry_run",
                                                           "exhausted"};

template <typename Enum, std::size_t N>
std::optional<Enum> ParseName(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

// "a, b, c": a closed set's names, for refusals.
template <std::size_t N>
std::string NameList(const std::array<std::string_view, N>& names) {
  std::string list;
  for (std::string_view name : names) list += (list.empty() ? "" : ", ") + std::string(name);
  return list;
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// Reads the fields of one payload object, each at most once, remembering which were read
// so the rest can be refused as unknown. The first refusal sticks; later reads are no-ops.
class FieldReader {
 public:
  explicit FieldReader(const json& object) : object_(object) {}

  const std::optional<Error>& failure() const { return failure_; }

  std::string Text(const char* name, std::size_t max_bytes, bool identifier) {
    const json* value = Find(name);
    if (value == nullptr) return {};
    if (!value->is_string()) return Fail<std::string>(name, "must be a string");
    const auto& text = value->get_ref<const std::string&>();
    if (text.size() > max_bytes) {
      return Fail<std::string>(name, "is longer than " + std::to_string(max_bytes) + " bytes");
    }
    if (identifier && text.empty()) return Fail<std::string>(name, "must not be empty");
    if (!identifier && text.find('\0') != std::string::npos)
      return Fail<std::string>(name, "must not contain NUL");
    if (identifier && HasControlCharacter(text)) {
      return Fail<std::string>(name, "must not contain control characters");
    }
    return text;
  }

  std::optional<std::string> NullableText(const char* name, std::size_t max_bytes) {
    const json* value = Find(name);
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (!value->is_string())
      return Fail<std::optional<std::string>>(name, "must be a string or null");
    const auto& text = value->get_ref<const std::string&>();
    if (text.size() > max_bytes) {
      return Fail<std::optional<std::string>>(
          name, "is longer than " + std::to_string(max_bytes) + " bytes");
    }
    if (text.find('\0') != std::string::npos) {
      return Fail<std::optional<std::string>>(name, "must not contain NUL");
    }
    return text;
  }

  bool Bool(const char* name) {
    const json* value = Find(name);
    if (value == nullptr) return false;
    if (!value->is_boolean()) return Fail<bool>(name, "must be true or false");
    return value->get<bool>();
  }

  // An integer in [min, max); nlohmann holds non-negative numbers as unsigned, so 2^63
  // and above never wrap through int64.
  std::int64_t Integer(const char* name, std::int64_t min, std::int64_t max) {
    const json* value = Find(name);
    if (value == nullptr) return min;
    return IntegerOf(name, *value, min, max);
  }

  std::optional<std::int64_t> NullableInteger(const char* name, std::int64_t min,
                                              std::int64_t max) {
    const json* value = Find(name);
    if (value == nullptr || value->is_null()) return std::nullopt;
    return IntegerOf(name, *value, min, max);
  }

  UnixSeconds Time(const char* name) {
    const json* value = Find(name);
    if (value == nullptr) return 0;
    return TimeOf(name, *value);
  }

  std::optional<UnixSeconds> NullableTime(const char* name) {
    const json* value = Find(name);
    if (value == nullptr || value->is_null()) return std::nullopt;
    return TimeOf(name, *value);
  }

  // A string from a closed set (an enum); anything else is refused with the set named.
  template <typename Enum, std::size_t N>
  Enum Choice(const char* name, const std::array<std::string_view, N>& names) {
    const json* value = Find(name);
    if (value == nullptr) return Enum{};
    if (value->is_string()) {
      const auto& text = value->get_ref<const std::string&>();
      for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == text) return static_cast<Enum>(i);
      }
    }
    return Fail<Enum>(name, "must be one of " + NameList(names));
  }

  const json* Object(const char* name) {
    const json* value = Find(name);
    if (value == nullptr) return nullptr;
    if (!value->is_object()) return Fail<const json*>(name, "must be an object");
    return value;
  }

  // After the last read: any field not read is unknown.
  void RefuseUnread() {
    if (failure_) return;
    for (const auto& item : object_.items()) {
      const std::string& key = item.key();  // not a structured binding: clang 14 captures
      if (std::none_of(read_.begin(), read_.end(),
                       [&key](std::string_view name) { return name == key; })) {
        failure_ = Error{"payload has unknown field '" + PrintableAscii(key, 40) + "'"};
        return;
      }
    }
  }

  // The first refusal sticks; `v` is the exception: an unknown version says only that.
  template <typename T>
  T Fail(const std::string& name, const std::string& why) {
    if (!failure_ || name == fields::kV) failure_ = Error{"payload " + name + " " + why};
    return T{};
  }

 private:
  const json* Find(const char* name) {
    if (failure_) return nullptr;
    read_.push_back(name);
    auto it = object_.find(name);
    if (it == object_.end()) {
      failure_ = Error{std::string("payload ") + name + " is missing"};
      return nullptr;
    }
    return &*it;
  }

  // An integer in [min, max); nlohmann holds non-negative numbers as unsigned, so 2^63
  // and above never wrap through int64.
  std::int64_t IntegerOf(const char* name, const json& value, std::int64_t min, std::int64_t max) {
    const std::string range = "must be an integer >= " + std::to_string(min) + " and < " +
                              (max == kMaxChainNumber ? std::string("2^53") : std::to_string(max));
    if (value.is_number_unsigned()) {
      const auto n = value.get<std::uint64_t>();
      if (n < static_cast<std::uint64_t>(max) && static_cast<std::int64_t>(n) >= min) {
        return static_cast<std::int64_t>(n);
      }
    } else if (value.is_number_integer()) {
      const auto n = value.get<std::int64_t>();
      if (n >= min && n < max) return n;
    }
    return Fail<std::int64_t>(name, range);
  }

  UnixSeconds TimeOf(const char* name, const json& value) {
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      if (auto at = ParseUtcSeconds(text)) return *at;
      if (HasControlCharacter(text))
        return Fail<UnixSeconds>(name, "must not contain control characters");
    }
    const std::string shown = value.is_string() ? value.get<std::string>() : value.dump();
    return Fail<UnixSeconds>(name, "must be RFC 3339 UTC like 2026-11-25T10:00:00Z, not '" +
                                       PrintableAscii(shown, 40) + "'");
  }

  const json& object_;
  std::vector<std::string_view> read_;  // a payload has at most 20 fields: a list will do
  std::optional<Error> failure_;
};

Envelope ReadEnvelope(FieldReader& r) {
  Envelope e;
  r.Integer(fields::kV, kRecordVersion, kRecordVersion + 1);
  if (r.failure()) {
    return r.Fail<Envelope>(fields::kV, "must be " + std::to_string(kRecordVersion));
  }
  e.node = r.Text(fields::kNode, kMaxIdBytes, true);
  e.epoch = r.Integer(fields::kEpoch, 1, kMaxChainNumber);
  e.seq = r.Integer(fields::kSeq, 1, kMaxChainNumber);
  e.prev = r.Text(fields::kPrev, kMaxIdBytes, true);
  e.t = r.Time(fields::kT);
  e.boot = r.Text(fields::kBoot, kMaxIdBytes, false);
  e.mono_ms = r.Integer(fields::kMonoMs, 0, kMaxChainNumber);
  e.agent = r.Text(fields::kAgent, kMaxIdBytes, false);
  return e;
}

Heartbeat ReadHeartbeat(FieldReader& r) {
  Heartbeat h;
  h.minute = r.Time(fields::kMinute);
  if (!r.failure() && h.minute % 60 != 0) {
    return r.Fail<Heartbeat>(fields::kMinute, "must be on a minute boundary (seconds 00)");
  }
  h.up = r.Bool(fields::kUp);
  if (const json* checks = r.Object(fields::kChecks)) {
    if (checks->size() > kMaxChecks) {
      return r.Fail<Heartbeat>(fields::kChecks,
                               "has more than " + std::to_string(kMaxChecks) + " entries");
    }
    for (const auto& [name, state] : checks->items()) {
      const std::string field = std::string(fields::kChecks) + "." + PrintableAscii(name, 40);
      if (name.empty() || name.size() > kMaxIdBytes || HasControlCharacter(name)) {
        return r.Fail<Heartbeat>(field,
                                 "is not a check name (1 to 64 bytes, no control characters)");
      }
      const auto parsed =
          state.is_string() ? ParseCheckState(state.get_ref<const std::string&>()) : std::nullopt;
      if (!parsed) return r.Fail<Heartbeat>(field, "must be one of ok, warning, critical, unknown");
      h.checks.emplace(name, *parsed);
    }
  }
  h.ntp_synced = r.Bool(fields::kNtpSynced);
  return h;
}

TaskRun ReadTaskRun(FieldReader& r) {
  TaskRun task;
  task.job = r.Text(fields::kJob, kMaxJobBytes, true);
  task.name = r.Text(fields::kName, kMaxJobBytes, false);
  task.run_at = r.Time(fields::kRunAt);
  task.ok = r.Bool(fields::kOk);
  task.error = r.NullableText(fields::kError, kMaxTextBytes);
  return task;
}

Incident ReadIncident(FieldReader& r) {
  Incident incident;
  incident.id = r.Integer(fields::kId, 1, kMaxChainNumber);
  incident.check = r.Text(fields::kCheck, kMaxIdBytes, true);
  incident.opened = r.Time(fields::kOpened);
  incident.closed = r.NullableTime(fields::kClosed);
  incident.summary = r.Text(fields::kSummary, kMaxTextBytes, false);
  if (!r.failure() && incident.closed && *incident.closed < incident.opened) {
    return r.Fail<Incident>(fields::kClosed, "is before opened");
  }
  return incident;
}

Ack ReadAck(FieldReader& r) {
  Ack ack;
  ack.incident = r.Integer(fields::kIncident, 1, kMaxChainNumber);
  ack.at = r.Time(fields::kAt);
  ack.by = r.Text(fields::kBy, kMaxIdBytes, true);
  ack.via = r.Choice<AckVia>(fields::kVia, kViaNames);
  ack.note = r.NullableText(fields::kNote, kMaxTextBytes);
  return ack;
}

Maintenance ReadMaintenance(FieldReader& r) {
  Maintenance window;
  window.from = r.Time(fields::kFrom);
  window.until = r.Time(fields::kUntil);
  window.reason = r.Text(fields::kReason, kMaxTextBytes, false);
  window.by = r.Text(fields::kBy, kMaxIdBytes, true);
  if (r.failure()) return window;
  if (window.reason.empty()) return r.Fail<Maintenance>(fields::kReason, "must not be empty");
  if (window.until <= window.from) return r.Fail<Maintenance>(fields::kUntil, "is not after from");
  if (window.until - window.from > kMaxMaintenanceSeconds) {
    return r.Fail<Maintenance>(fields::kUntil, "is more than 30 days after from");
  }
  return window;
}

Remediation ReadRemediation(FieldReader& r) {
  Remediation done;
  done.check = r.Text(fields::kCheck, kMaxIdBytes, true);
  done.target = r.Text(fields::kTarget, kMaxJobBytes, true);
  done.action = r.Choice<RemedyAction>(fields::kAction, kActionNames);
  done.reason = r.Text(fields::kReason, kMaxTextBytes, false);
  done.attempt = r.Integer(fields::kAttempt, 1, kMaxRemedyAttempt);
  done.started = r.Time(fields::kStarted);
  done.finished = r.Time(fields::kFinished);
  done.outcome = r.Choice<RemedyOutcome>(fields::kOutcome, kOutcomeNames);
  done.changed = r.NullableText(fields::kChanged, kMaxTextBytes);
  done.incident = r.NullableInteger(fields::kIncident, 1, kMaxChainNumber);
  if (r.failure()) return done;
  if (done.reason.empty()) return r.Fail<Remediation>(fields::kReason, "must not be empty");
  if (done.finished < done.started) {
    return r.Fail<Remediation>(fields::kFinished, "is before started");
  }
  if (done.finished - done.started > kMaxRemedySeconds) {
    return r.Fail<Remediation>(fields::kFinished, "is more than a day after started");
  }
  return done;
}

// new_jwk: exactly kty OKP, crv Ed25519, x (32 bytes, canonical base64url) and kid KeyId(x).
KeyRotate ReadKeyRotate(FieldReader& r) {
  KeyRotate rotate;
  const json* jwk = r.Object(fields::kNewJwk);
  rotate.proof = r.Text(fields::kProof, kMaxProofBytes, true);
  if (r.failure()) return rotate;
  const std::string name = fields::kNewJwk;
  const auto member = [&](const char* key) -> std::string {
    auto it = jwk->find(key);
    return it != jwk->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  for (const auto& item : jwk->items()) {
    const std::string& key = item.key();
    if (key != "kty" && key != "crv" && key != "x" && key != "kid") {
      return r.Fail<KeyRotate>(name, "has unknown member '" + PrintableAscii(key, 40) + "'");
    }
  }
  if (member("kty") != "OKP" || member("crv") != "Ed25519") {
    return r.Fail<KeyRotate>(name, "must be an Ed25519 key (kty OKP, crv Ed25519)");
  }
  auto x = Base64UrlDecode(member("x"));
  if (!x || x->size() != rotate.new_key.size() || Base64UrlEncode(*x) != member("x")) {
    return r.Fail<KeyRotate>(name + ".x", "must be a 32-byte key in base64url");
  }
  std::copy(x->begin(), x->end(), rotate.new_key.begin());
  rotate.new_kid = KeyId(rotate.new_key);
  if (member("kid") != rotate.new_kid) {
    return r.Fail<KeyRotate>(name + ".kid", "must be the key's kid " + rotate.new_kid);
  }
  return rotate;
}

json ChecksJson(const std::map<std::string, CheckState>& checks) {
  json out = json::object();
  for (const auto& [name, state] : checks) out[name] = CheckStateName(state);
  return out;
}

}  // namespace

std::string_view RecordTypeName(RecordType type) {
  return kTypeNames[static_cast<std::size_t>(type)];
}

std::optional<RecordType> ParseRecordType(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<RecordType>(i);
  }
  return std::nullopt;
}

std::string_view AckViaName(AckVia via) { return kViaNames[static_cast<std::size_t>(via)]; }

std::string_view RemedyActionName(RemedyAction action) {
  return kActionNames[static_cast<std::size_t>(action)];
}

std::optional<RemedyAction> ParseRemedyAction(std::string_view name) {
  return ParseName<RemedyAction>(kActionNames, name);
}

std::string_view RemedyOutcomeName(RemedyOutcome outcome) {
  return kOutcomeNames[static_cast<std::size_t>(outcome)];
}

std::optional<RemedyOutcome> ParseRemedyOutcome(std::string_view name) {
  return ParseName<RemedyOutcome>(kOutcomeNames, name);
}

std::optional<AckVia> ParseAckVia(std::string_view name) {
  for (std::size_t i = 0; i < kViaNames.size(); ++i) {
    if (kViaNames[i] == name) return static_cast<AckVia>(i);
  }
  return std::nullopt;
}

std::string_view CheckStateName(CheckState state) {
  return kStateNames[static_cast<std::size_t>(state)];
}

std::optional<CheckState> ParseCheckState(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<CheckState>(i);
  }
  return std::nullopt;
}

std::string EncodeCheckStates(const std::map<std::string, CheckState>& checks) {
  return DumpJson(ChecksJson(checks));
}

std::string EncodeRecord(const Record& record) {
  const Envelope& e = record.envelope;
  json p = {{fields::kV, kRecordVersion}, {fields::kNode, e.node},
            {fields::kEpoch, e.epoch},    {fields::kSeq, e.seq},
            {fields::kPrev, e.prev},      {fields::kType, RecordTypeName(record.Type())},
            {fields::kT, FormatUtc(e.t)}, {fields::kBoot, e.boot},
            {fields::kMonoMs, e.mono_ms}, {fields::kAgent, e.agent}};
  std::visit(
      [&p](const auto& body) {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Body, Heartbeat>) {
          p[fields::kMinute] = FormatUtc(body.minute);
          p[fields::kUp] = body.up;
          p[fields::kChecks] = ChecksJson(body.checks);
          p[fields::kNtpSynced] = body.ntp_synced;
        } else if constexpr (std::is_same_v<Body, TaskRun>) {
          p[fields::kJob] = body.job;
          p[fields::kName] = body.name;
          p[fields::kRunAt] = FormatUtc(body.run_at);
          p[fields::kOk] = body.ok;
          p[fields::kError] = body.error ? json(*body.error) : json(nullptr);
        } else if constexpr (std::is_same_v<Body, Incident>) {
          p[fields::kId] = body.id;
          p[fields::kCheck] = body.check;
          p[fields::kOpened] = FormatUtc(body.opened);
          p[fields::kClosed] = body.closed ? json(FormatUtc(*body.closed)) : json(nullptr);
          p[fields::kSummary] = body.summary;
        } else if constexpr (std::is_same_v<Body, AgentStart>) {
          p[fields::kCleanPreviousStop] = body.clean_previous_stop;
          p[fields::kRebooted] = body.rebooted;
        } else if constexpr (std::is_same_v<Body, Ack>) {
          p[fields::kIncident] = body.incident;
          p[fields::kAt] = FormatUtc(body.at);
          p[fields::kBy] = body.by;
          p[fields::kVia] = AckViaName(body.via);
          p[fields::kNote] = body.note ? json(*body.note) : json(nullptr);
        } else if constexpr (std::is_same_v<Body, Maintenance>) {
          p[fields::kFrom] = FormatUtc(body.from);
          p[fields::kUntil] = FormatUtc(body.until);
          p[fields::kReason] = body.reason;
          p[fields::kBy] = body.by;
        } else if constexpr (std::is_same_v<Body, Remediation>) {
          p[fields::kCheck] = body.check;
          p[fields::kTarget] = body.target;
          p[fields::kAction] = RemedyActionName(body.action);
          p[fields::kReason] = body.reason;
          p[fields::kAttempt] = body.attempt;
          p[fields::kStarted] = FormatUtc(body.started);
          p[fields::kFinished] = FormatUtc(body.finished);
          p[fields::kOutcome] = RemedyOutcomeName(body.outcome);
          p[fields::kChanged] = body.changed ? json(*body.changed) : json(nullptr);
          p[fields::kIncident] = body.incident ? json(*body.incident) : json(nullptr);
        } else if constexpr (std::is_same_v<Body, KeyRotate>) {
          p[fields::kNewJwk] = json::parse(PublicJwk(body.new_key));
          p[fields::kProof] = body.proof;
        }
      },
      record.body);
  return DumpJson(p);
}

Result<Record> DecodeRecord(std::string_view payload_json) {
  // A byte order mark is refused too (strict JSON): the databases' JSON functions do not
  // skip one as nlohmann does.
  auto parsed = ParseStrictJson(payload_json, kMaxPayloadDepth);
  if (!parsed) return Error{"payload: " + parsed.error()};
  if (!parsed->is_object()) return Error{"payload is not a JSON object"};
  FieldReader r(*parsed);
  Record record{ReadEnvelope(r), AgentStop{}};
  const std::string type_name = r.Text(fields::kType, kMaxIdBytes, true);
  if (r.failure()) return *r.failure();
  const auto type = ParseRecordType(type_name);
  if (!type) {
    return Error{"payload type '" + PrintableAscii(type_name, 40) + "' is not one of " +
                 NameList(kTypeNames)};
  }
  switch (*type) {
    case RecordType::kHeartbeat:
      record.body = ReadHeartbeat(r);
      break;
    case RecordType::kTask:
      record.body = ReadTaskRun(r);
      break;
    case RecordType::kIncident:
      record.body = ReadIncident(r);
      break;
    case RecordType::kAgentStart:
      record.body = AgentStart{r.Bool(fields::kCleanPreviousStop), r.Bool(fields::kRebooted)};
      break;
    case RecordType::kAgentStop:
      break;
    case RecordType::kAck:
      record.body = ReadAck(r);
      break;
    case RecordType::kMaintenance:
      record.body = ReadMaintenance(r);
      break;
    case RecordType::kRemediation:
      record.body = ReadRemediation(r);
      break;
    case RecordType::kKeyRotate:
      record.body = ReadKeyRotate(r);
      break;
  }
  r.RefuseUnread();
  if (r.failure()) return *r.failure();
  return record;
}

Result<std::string> MoveInChain(std::string_view payload_json, std::int64_t epoch, std::int64_t seq,
                                const std::string& prev) {
  auto payload = json::parse(payload_json, nullptr, false);
  if (!payload.is_object()) return Error{"the payload is not a JSON object"};
  payload[fields::kEpoch] = epoch;
  payload[fields::kSeq] = seq;
  payload[fields::kPrev] = prev;
  return DumpJson(payload);
}

}  // namespace fleet::protocol
