// ClosedStatement: a month's statement frozen with what it was computed from, and checked
// again from that alone. Closing computes the statement from the month's records (the ones
// StatementRecords picked: chained, acknowledged, about the month) through RecordsSource,
// an in-memory ReportSource over the records' payloads, the registry as it was and the
// receiver's own alerts as it read them (captured, since no record carries them). The signed
// document holds the statement, the registry, the captured alerts, the policy, and a digest
// over the sorted list "hash received_at" of the records (hash = ChainHash of the compact
// JWS, what the receiver keeps); it is signed by the receiver's Ed25519 key as a compact JWS
// of typ kStatementTyp. VerifyClosedStatement takes the signed JWS, the receiver's public
// key, the list and the records (NDJSON of compact JWS) and says what differs: signature,
// list digest, records missing or extra, a record's node signature, the recomputed statement.
// Pure (no I/O).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/jws.h"
#include "receiver/report/report_source.h"
#include "receiver/report/statement.h"
#include "receiver/report/uptime_report.h"

namespace fleet::receiver {

inline constexpr std::string_view kStatementTyp = "fleet-statement+jws";

// One record a closed statement used.
struct StatementRecord {
  std::string node;
  std::int64_t epoch = 0;
  std::int64_t seq = 0;
  std::string jws;      // compact JWS, as received
  std::string payload;  // its JSON payload
  std::string hash;     // ChainHash(jws)
  std::int64_t received_at = 0;
};

// The sorted lines "hash received_at\n" and their digest (ChainHash of the text).
std::string RecordListText(const std::vector<StatementRecord>& records);
std::string RecordListDigest(std::string_view list_text);

// A ReportSource over records' payloads, a registry, and the receiver's alerts. With
// `capture_from`, the receiver's alerts are read from it and kept (CapturedAlerts); without,
// they are replayed from `captured`.
class RecordsSource : public ReportSource {
 public:
  RecordsSource(Registry registry, const std::vector<StatementRecord>& records,
                ReportSource* capture_from, nlohmann::json captured = nlohmann::json::object());
  Result<Registry> LoadRegistry() override { return registry_; }
  Outcome ForEachHeartbeat(const std::string& node, std::int64_t begin, std::int64_t end,
                           const std::function<void(const HeartbeatRow&)>& row) override;
  Outcome ForEachTask(const std::string& node, std::int64_t begin, std::int64_t end,
                      const std::function<void(const TaskRow&)>& row) override;
  Outcome ForEachIncident(const std::string& node, std::int64_t begin, std::int64_t end,
                          const std::function<void(const IncidentRow&)>& row) override;
  Outcome ForEachAck(const std::string& node, std::int64_t begin, std::int64_t end,
                     const std::function<void(const AckRow&)>& row) override;
  Result<std::optional<ReceiverAlerting>> ReceiverAlertingOf(const std::string& node) override;
  Outcome ForEachReceiverAlert(const std::string& node, std::int64_t begin, std::int64_t end,
                               const std::function<void(const ReceiverAlertRow&)>& row) override;
  const nlohmann::json& CapturedAlerts() const { return captured_; }
  // Records whose payload did not decode (left out, as the stores leave them out).
  int undecoded() const { return undecoded_; }

 private:
  Registry registry_;
  std::map<std::string, std::vector<HeartbeatRow>> beats_;
  std::map<std::string, std::vector<TaskRow>> tasks_;
  std::map<std::string, std::vector<IncidentRow>> incidents_;
  std::map<std::string, std::vector<AckRow>> acks_;
  ReportSource* capture_from_;
  nlohmann::json captured_;
  int undecoded_ = 0;
};

nlohmann::json RegistryToJson(const Registry& registry);
Result<Registry> RegistryFromJson(const nlohmann::json& json);

struct StatementInputs {
  Registry registry;
  PayoutPolicy policy;
  std::int64_t live_within_s = 0;
  std::map<std::string, std::string> node_keys;  // kid -> base64url public key (JWK x)
};

// The month's statement from the records and inputs (the captured alerts in `alerts`, or
// read from `capture_from` and returned there).
Result<MonthStatement> StatementFromRecords(const StatementInputs& inputs, const Period& month,
                                            const std::vector<StatementRecord>& records,
                                            ReportSource* capture_from, nlohmann::json& alerts);

// The signed document: {"type":"fleet-closed-statement","month","closed_at","receiver_kid",
// "statement","inputs":{registry, policy, live_within_s, node_keys, receiver_alerts},
// "records":{"count","digest"}}.
nlohmann::json ClosedDocument(const MonthStatement& statement, const StatementInputs& inputs,
                              const nlohmann::json& alerts, const std::string& list_text,
                              std::size_t record_count, std::int64_t closed_at,
                              const std::string& receiver_kid);
std::string SignClosedDocument(const nlohmann::json& document, const SecretKey& secret,
                               const std::string& kid);

// Adjustments: what changed in a closed month's statement since it was closed, per operator
// and figure (base, each bonus, commission, total): closed and now, and the difference.
nlohmann::json StatementAdjustments(const nlohmann::json& closed_statement,
                                    const nlohmann::json& now_statement);

struct VerifyReport {
  bool ok = false;
  std::vector<std::string> problems;  // what differs, one line each
  nlohmann::json document;            // the signed document (when the signature held)
};
// jws: the signed statement; key: the receiver's public key; list_text: the record list
// (lines "hash received_at"); records_ndjson: one compact JWS a line.
VerifyReport VerifyClosedStatement(std::string_view jws, const PublicKey& key,
                                   std::string_view list_text, std::string_view records_ndjson);

}  // namespace fleet::receiver
