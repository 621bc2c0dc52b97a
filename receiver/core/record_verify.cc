#include "receiver/core/record_verify.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/utc_time.h"

namespace fleet::receiver {
namespace {

Rejection Invalid(std::string reason) { return Rejection{RejectKind::kInvalid, std::move(reason)}; }

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// epoch or seq: an integer in [1, kMaxChainNumber); nlohmann holds non-negative numbers
// as unsigned, so 2^63 and above never wrap through int64.
std::optional<std::int64_t> ChainNumber(const nlohmann::json* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_number_unsigned()) {
    const auto n = value->get<std::uint64_t>();
    if (n >= 1 && n < static_cast<std::uint64_t>(kMaxChainNumber)) {
      return static_cast<std::int64_t>(n);
    }
  } else if (value->is_number_integer()) {
    const auto n = value->get<std::int64_t>();
    if (n >= 1 && n < kMaxChainNumber) return n;
  }
  return std::nullopt;
}

// A time field of the payload: RFC 3339 UTC as the agent writes it, not ahead of now by
// more than kMaxFutureSeconds. Returns its unix seconds or the rejection.
std::variant<std::int64_t, Rejection> RecordTime(const std::string& name, const std::string& text,
                                                 std::int64_t now) {
  const auto at = ParseUtcSeconds(text);
  if (!at) {
    return Invalid("payload " + name + " must be RFC 3339 UTC like 2026-11-25T10:00:00Z, not '" +
                   PrintableAscii(text, 40) + "'");
  }
  if (*at > now + kMaxFutureSeconds) {
    return Invalid("payload " + name + " " + text + " is " + std::to_string(*at - now) +
                   " s ahead of the receive time (at most " + std::to_string(kMaxFutureSeconds) +
                   " s)");
  }
  return *at;
}

const nlohmann::json* Field(const nlohmann::json& p, const char* name) {
  auto it = p.find(name);
  return it == p.end() ? nullptr : &*it;
}

// The common fields but times: the record's node, epoch, seq, prev, type and t on success.
std::optional<Rejection> ReadCommonFields(const nlohmann::json& p, VerifiedRecord& record) {
  auto field = [&](const char* name) { return Field(p, name); };
  const auto* v = field("v");
  if (v == nullptr || !v->is_number_integer() || v->get<std::int64_t>() != 1) {
    return Invalid("payload v must be 1");
  }
  for (const char* name : {"node", "prev", "type", "t"}) {
    const auto* value = field(name);
    if (value == nullptr || !value->is_string()) {
      return Invalid(std::string("payload ") + name + " must be a string");
    }
    if (HasControlCharacter(value->get_ref<const std::string&>())) {
      return Invalid(std::string("payload ") + name + " must not contain control characters");
    }
  }
  for (const char* name : {"epoch", "seq"}) {
    const auto number = ChainNumber(field(name));
    if (!number)
      return Invalid(std::string("payload ") + name + " must be an integer >= 1 and < 2^53");
    (name == std::string_view("epoch") ? record.epoch : record.seq) = *number;
  }
  record.node = p["node"].get<std::string>();
  record.prev = p["prev"].get<std::string>();
  record.type = p["type"].get<std::string>();
  record.t = p["t"].get<std::string>();
  return std::nullopt;
}

// t, and a heartbeat's minute; sets t_unix.
std::optional<Rejection> ReadTimes(const nlohmann::json& p, std::int64_t now,
                                   VerifiedRecord& record) {
  auto t = RecordTime("t", record.t, now);
  if (auto* why = std::get_if<Rejection>(&t)) return std::move(*why);
  record.t_unix = std::get<std::int64_t>(t);
  if (record.type == "heartbeat") {
    // The minute a heartbeat covers is what uptime counts: bounded like t.
    const auto* minute = Field(p, "minute");
    if (minute == nullptr || !minute->is_string())
      return Invalid("payload minute must be a string");
    auto at = RecordTime("minute", minute->get<std::string>(), now);
    if (auto* why = std::get_if<Rejection>(&at)) return std::move(*why);
    if (std::get<std::int64_t>(at) % 60 != 0) {
      return Invalid("payload minute must be on a minute boundary (seconds 00)");
    }
  }
  return std::nullopt;
}

// The header, up to the key: alg, typ and kid's shape, then the registry.
std::variant<RegisteredKey, Rejection> FindSigner(std::string_view line, const KeyLookup& lookup) {
  auto header = ReadJwsHeader(line);
  if (!header) return Invalid(header.error());
  if (header->alg != "EdDSA") {
    return Invalid("alg must be EdDSA, not '" + PrintableAscii(header->alg, 40) + "'");
  }
  if (header->typ != "fleet-record+jws") return Invalid("typ must be fleet-record+jws");
  if (header->kid.empty()) return Invalid("kid missing");
  const std::string kid = PrintableAscii(header->kid, 64);
  // Before any lookup: a registry lookup (under the receiver's key lock) per made-up kid
  // would let one batch hold everyone's ingest.
  if (!IsKeyIdShape(header->kid)) {
    return Invalid("kid '" + kid + "' is not a key id (11 base64url characters)");
  }
  auto found = lookup(header->kid);
  if (!found)
    return Rejection{RejectKind::kStoreError, "reading the key registry: " + found.error()};
  if (!found->has_value()) return Rejection{RejectKind::kUnknownKey, "unknown kid " + kid};
  if ((*found)->revoked) {
    return Rejection{RejectKind::kRevokedKey,
                     "kid " + kid + " of node " + (*found)->node + " is revoked"};
  }
  return std::move(**found);
}

}  // namespace

VerifyOutcome VerifyRecord(std::string_view line, const KeyLookup& lookup, std::int64_t now) {
  // An agent's record is well under 4 KiB; a line far beyond that is not one of ours, and
  // stored it would cost every report that reads it.
  if (line.size() > kMaxRecordBytes) {
    return Invalid("record larger than " + std::to_string(kMaxRecordBytes) + " bytes");
  }
  auto signer = FindSigner(line, lookup);
  if (auto* why = std::get_if<Rejection>(&signer)) return std::move(*why);
  const RegisteredKey& key = std::get<RegisteredKey>(signer);
  auto verified = VerifyCompactJws(line, key.key);
  if (!verified) return Invalid(verified.error());

  // A byte order mark is refused too: nlohmann skips one, the databases' JSON functions
  // (reports) do not, so one such record would break a month's reports for everyone.
  auto json = ParseStrictJson(verified->payload, kMaxPayloadDepth);
  if (!json) return Invalid("payload: " + json.error());
  if (!json->is_object()) return Invalid("payload is not a JSON object");
  VerifiedRecord record;
  if (auto why = ReadCommonFields(*json, record)) return std::move(*why);
  if (record.node != key.node) {
    return Invalid("payload names node '" + PrintableAscii(record.node, 64) + "' but kid " +
                   PrintableAscii(key.kid, 64) + " belongs to node '" + key.node + "'");
  }
  if (auto why = ReadTimes(*json, now, record)) return std::move(*why);
  record.payload = std::move(verified->payload);
  record.jws = std::string(line);
  record.hash = ChainHash(line);
  return record;
}

}  // namespace fleet::receiver
