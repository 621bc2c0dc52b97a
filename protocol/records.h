// Records: the typed payload of every record type an agent signs, and its encoding, in
// one place (the wire contract; design.md "Record format"). A payload is one JSON object:
// the envelope (v, node, epoch, seq, prev, type, t, boot, mono_ms, agent) and the fields
// of its type. DecodeRecord is strict and total: strict JSON (no duplicate key, depth
// limited), exact JSON types, every field required (null only where the type says so), no
// unknown field, times RFC 3339 UTC as records carry them (base/utc_time.h), enums from
// the closed set, strings within their size limit, free of NUL (which PostgreSQL text
// cannot hold) and of any control character where they are identifiers, epoch and seq in [1, 2^53),
// v exactly 1. A refusal is an Error naming the field ("payload up must be true or false").
// EncodeRecord writes what DecodeRecord reads back unchanged (tests/protocol/records_test.cc).
// Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.h"
#include "base/utc_time.h"
#include "protocol/jws.h"

namespace fleet::protocol {

// The payload's field names, spelled here once: the encoder, the decoder and whatever
// names a field in a refusal use these.
namespace fields {
inline constexpr char kV[] = "v";
inline constexpr char kNode[] = "node";
inline constexpr char kEpoch[] = "epoch";
inline constexpr char kSeq[] = "seq";
inline constexpr char kPrev[] = "prev";
inline constexpr char kType[] = "type";
inline constexpr char kT[] = "t";
inline constexpr char kBoot[] = "boot";
inline constexpr char kMonoMs[] = "mono_ms";
inline constexpr char kAgent[] = "agent";
inline constexpr char kMinute[] = "minute";
inline constexpr char kUp[] = "up";
inline constexpr char kChecks[] = "checks";
inline constexpr char kNtpSynced[] = "ntp_synced";
inline constexpr char kJob[] = "job";
inline constexpr char kName[] = "name";
inline constexpr char kRunAt[] = "run_at";
inline constexpr char kOk[] = "ok";
inline constexpr char kError[] = "error";
inline constexpr char kId[] = "id";
inline constexpr char kCheck[] = "check";
inline constexpr char kOpened[] = "opened";
inline constexpr char kClosed[] = "closed";
inline constexpr char kSummary[] = "summary";
inline constexpr char kCleanPreviousStop[] = "clean_previous_stop";
inline constexpr char kRebooted[] = "rebooted";
inline constexpr char kIncident[] = "incident";
inline constexpr char kAt[] = "at";
inline constexpr char kBy[] = "by";
inline constexpr char kVia[] = "via";
inline constexpr char kNote[] = "note";
inline constexpr char kFrom[] = "from";
inline constexpr char kUntil[] = "until";
inline constexpr char kReason[] = "reason";
inline constexpr char kTarget[] = "target";
inline constexpr char kAction[] = "action";
inline constexpr char kAttempt[] = "attempt";
inline constexpr char kStarted[] = "started";
inline constexpr char kFinished[] = "finished";
inline constexpr char kOutcome[] = "outcome";
inline constexpr char kChanged[] = "changed";
inline constexpr char kNewJwk[] = "new_jwk";
inline constexpr char kProof[] = "proof";
}  // namespace fields

inline constexpr std::int64_t kRecordVersion = 1;
// epoch and seq are below this (2^53): integers every JSON reader (and double) holds exactly.
inline constexpr std::int64_t kMaxChainNumber = std::int64_t{1} << 53;
inline constexpr int kMaxPayloadDepth = 8;
// Size limits, in bytes (free text is cut by the agent well before: 1 KiB).
inline constexpr std::size_t kMaxIdBytes = 64;      // node, check names, boot, agent
inline constexpr std::size_t kMaxJobBytes = 256;    // a task's job id and name
inline constexpr std::size_t kMaxTextBytes = 1024;  // summary, error
inline constexpr std::size_t kMaxChecks = 64;       // checks in one heartbeat
// A maintenance window lasts at most this long (30 days): a longer silence is no window.
inline constexpr std::int64_t kMaxMaintenanceSeconds = 30 * 86400;
// A remediation's attempt number is below this; an action lasts at most a day.
inline constexpr std::int64_t kMaxRemedyAttempt = 1000;
inline constexpr std::int64_t kMaxRemedySeconds = 86400;

enum class RecordType {
  kHeartbeat,
  kTask,
  kIncident,
  kAgentStart,
  kAgentStop,
  kAck,
  kMaintenance,
  kRemediation,
  kKeyRotate
};
std::string_view RecordTypeName(RecordType type);
std::optional<RecordType> ParseRecordType(std::string_view name);

// A check's state as a heartbeat carries it ("ok", "warning", "critical", "unknown").
enum class CheckState { kOk, kWarning, kCritical, kUnknown };
std::string_view CheckStateName(CheckState state);
std::optional<CheckState> ParseCheckState(std::string_view name);

// How an acknowledgement was given ("telegram", "cli", "receiver").
enum class AckVia { kTelegram, kCli, kReceiver };
std::string_view AckViaName(AckVia via);
std::optional<AckVia> ParseAckVia(std::string_view name);

// What the agent did to fix something (a remediation's action): "restart_unit",
// "create_session", "respawn_pane", "interrupt_pane", "remove_files", "run_script",
// "quarantine_file".
enum class RemedyAction {
  kRestartUnit,
  kCreateSession,
  kRespawnPane,
  kInterruptPane,
  kRemoveFiles,
  kRunScript,
  kQuarantineFile
};
std::string_view RemedyActionName(RemedyAction action);
std::optional<RemedyAction> ParseRemedyAction(std::string_view name);

// How it ended: "succeeded" (done, and what it was for holds: the unit active, the session
// there, the disk under its line), "failed" (not done, or done without helping),
// "dry_run" (only recorded: remedies.mode dry-run), "exhausted" (not done: the target's
// limits are used up; the operator is needed).
enum class RemedyOutcome { kSucceeded, kFailed, kDryRun, kExhausted };
std::string_view RemedyOutcomeName(RemedyOutcome outcome);
std::optional<RemedyOutcome> ParseRemedyOutcome(std::string_view name);

// What every record carries. prev is the chain hash of the record before (protocol/jws.h).
struct Envelope {
  std::string node;
  std::int64_t epoch = 1;
  std::int64_t seq = 1;
  std::string prev;
  UnixSeconds t = 0;  // when the agent made the record
  std::string boot;   // the node's boot id
  std::int64_t mono_ms = 0;
  std::string agent;  // the agent's version
};

// One minute of the node's life: up when every expected check was fine in it.
struct Heartbeat {
  UnixSeconds minute = 0;  // the minute's start, on a minute boundary
  bool up = false;
  std::map<std::string, CheckState> checks;
  bool ntp_synced = false;
};

// A finished run of a Hermes cron job; (job, run_at) names it.
struct TaskRun {
  std::string job;
  std::string name;
  UnixSeconds run_at = 0;
  bool ok = false;
  std::optional<std::string> error;  // null when ok
};

// An incident's state: a record when it opens (closed null) and one when it closes.
struct Incident {
  std::int64_t id = 0;  // the node's own incident number
  std::string check;
  UnixSeconds opened = 0;
  std::optional<UnixSeconds> closed;
  std::string summary;
};

struct AgentStart {
  bool clean_previous_stop = false;
  bool rebooted = false;
};

struct AgentStop {};

// Someone acknowledged an incident's alert. `incident` is the node's own incident id (an
// incident record's `id`); `by` names who (a Telegram user name or id, a local user: 1 to 64
// bytes, no control characters).
struct Ack {
  std::int64_t incident = 0;
  UnixSeconds at = 0;  // when it was acknowledged
  std::string by;
  AckVia via = AckVia::kCli;
  std::optional<std::string> note;  // at most 1 KiB, or null
};

// A window in which alerts are silenced; uptime is measured in it as always. until > from,
// at most kMaxMaintenanceSeconds apart; `by` as for Ack.
struct Maintenance {
  UnixSeconds from = 0;
  UnixSeconds until = 0;
  std::string reason;  // 1 byte to 1 KiB
  std::string by;
};

// The agent acted (or, in dry-run, would have) to fix what a check found. `check` names
// the check (as an incident's check); `target` what was acted on ("hermes-gateway.service",
// "BURN2", "BURN:0.0", a path: 1 to 256 bytes, no control characters); `reason` what the
// check said (1 byte to 1 KiB); `attempt` counts the target's attempts within its limits
// (1 to 999); finished is not before started, at most a day after; `changed` says what the
// action changed ("removed 14 files, 1.2 GiB", at most 1 KiB) or is null; `incident` is the
// check's open incident (an incident record's `id`) or null.
struct Remediation {
  std::string check;
  std::string target;
  RemedyAction action = RemedyAction::kRestartUnit;
  std::string reason;
  std::int64_t attempt = 1;
  UnixSeconds started = 0;
  UnixSeconds finished = 0;
  RemedyOutcome outcome = RemedyOutcome::kSucceeded;
  std::optional<std::string> changed;
  std::optional<std::int64_t> incident;
};

// The node moves to a new key (its old one signs this record, in the chain): `new_jwk` is
// the new public key as a JWK ({"kty":"OKP","crv":"Ed25519","x":...,"kid":...}, exactly
// those members, kid KeyId(x)); `proof` is a compact JWS the new key signed over the node,
// the old and the new kid and this record's t (protocol/key_proof.h: proof of possession).
// The decoder checks the JWK's shape; whoever verifies the record checks the proof.
struct KeyRotate {
  PublicKey new_key{};
  std::string new_kid;  // KeyId(new_key)
  std::string proof;    // at most kMaxProofBytes
};
inline constexpr std::size_t kMaxProofBytes = 1024;

// In RecordType's order: Record::Type() is the index.
using RecordBody = std::variant<Heartbeat, TaskRun, Incident, AgentStart, AgentStop, Ack,
                                Maintenance, Remediation, KeyRotate>;

struct Record {
  Envelope envelope;
  RecordBody body;
  RecordType Type() const { return static_cast<RecordType>(body.index()); }
};

// The payload's JSON text (keys sorted, compact).
std::string EncodeRecord(const Record& record);
// A heartbeat's checks as the payload carries them ({"name":"state",...}), for a store's
// typed column.
std::string EncodeCheckStates(const std::map<std::string, CheckState>& checks);
Result<Record> DecodeRecord(std::string_view payload_json);

// The payload with its place in the chain (epoch, seq, prev) replaced and every other
// field as it was, even one this version would not decode: for the agent's spool, which
// re-chains the records after a refused one. An Error when it is not a JSON object.
Result<std::string> MoveInChain(std::string_view payload_json, std::int64_t epoch, std::int64_t seq,
                                const std::string& prev);

}  // namespace fleet::protocol
