#include "receiver/core/record_verify.h"

#include <nlohmann/json.hpp>

#include "agent/core/json_text.h"

namespace fleet::receiver {
namespace {

Rejection Invalid(std::string reason) { return Rejection{RejectKind::kInvalid, std::move(reason)}; }

}  // namespace

VerifyOutcome VerifyRecord(std::string_view line, const KeyLookup& lookup) {
  // An agent's record is well under 4 KiB; a line far beyond that is not one of ours, and
  // stored it would cost every report that reads it.
  if (line.size() > kMaxRecordBytes) {
    return Invalid("record larger than " + std::to_string(kMaxRecordBytes) + " bytes");
  }
  auto header = ReadJwsHeader(line);
  if (!header) return Invalid(header.error());
  if (header->alg != "EdDSA") {
    return Invalid("alg must be EdDSA, not '" + PrintableAscii(header->alg, 40) + "'");
  }
  if (header->typ != "fleet-record+jws") return Invalid("typ must be fleet-record+jws");
  if (header->kid.empty()) return Invalid("kid missing");
  auto found = lookup(header->kid);
  if (!found)
    return Rejection{RejectKind::kStoreError, "reading the key registry: " + found.error()};
  const std::string kid = PrintableAscii(header->kid, 64);
  if (!found->has_value()) return Rejection{RejectKind::kUnknownKey, "unknown kid " + kid};
  const RegisteredKey& key = **found;
  if (key.revoked) {
    return Rejection{RejectKind::kRevokedKey,
                     "kid " + kid + " of node " + key.node + " is revoked"};
  }
  auto verified = VerifyCompactJws(line, key.key);
  if (!verified) return Invalid(verified.error());

  // nlohmann skips a leading byte order mark; the databases' JSON functions (reports) do
  // not, so one such record would break a month's reports for everyone.
  if (verified->payload.starts_with("\xEF\xBB\xBF")) {
    return Invalid("payload starts with a byte order mark (JSON text must not)");
  }
  auto json = ParseJsonText(verified->payload, kMaxPayloadDepth);
  if (!json) return Invalid("payload: " + json.error());
  if (!json->is_object()) return Invalid("payload is not a JSON object");
  const nlohmann::json& p = *json;
  auto field = [&](const char* name) -> const nlohmann::json* {
    auto it = p.find(name);
    return it == p.end() ? nullptr : &*it;
  };
  const auto* v = field("v");
  if (v == nullptr || !v->is_number_integer() || v->get<std::int64_t>() != 1) {
    return Invalid("payload v must be 1");
  }
  for (const char* name : {"node", "prev", "type", "t"}) {
    const auto* value = field(name);
    if (value == nullptr || !value->is_string()) {
      return Invalid(std::string("payload ") + name + " must be a string");
    }
  }
  for (const char* name : {"epoch", "seq"}) {
    const auto* value = field(name);
    if (value == nullptr || !value->is_number_integer() || value->get<std::int64_t>() < 1) {
      return Invalid(std::string("payload ") + name + " must be an integer >= 1");
    }
  }
  VerifiedRecord record;
  record.node = p["node"].get<std::string>();
  if (record.node != key.node) {
    return Invalid("payload names node '" + PrintableAscii(record.node, 64) + "' but kid " + kid +
                   " belongs to node '" + key.node + "'");
  }
  record.epoch = p["epoch"].get<std::int64_t>();
  record.seq = p["seq"].get<std::int64_t>();
  record.prev = p["prev"].get<std::string>();
  record.type = p["type"].get<std::string>();
  record.t = p["t"].get<std::string>();
  record.payload = std::move(verified->payload);
  record.jws = std::string(line);
  record.hash = ChainHash(line);
  return record;
}

}  // namespace fleet::receiver
