#include "receiver/web/record_listing.h"

#include <map>
#include <variant>

#include "base/utc_time.h"
#include "protocol/jws.h"
#include "receiver/core/record_verify.h"
#include "receiver/web/html.h"
#include "receiver/web/shown_node.h"

namespace fleet::receiver {
namespace {

Result<PublicKey> KeyOf(const std::string& text) {
  auto bytes = Base64UrlDecode(text);
  if (!bytes || bytes->size() != PublicKey{}.size()) return Error{"a stored key is not 32 bytes"};
  PublicKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>((*bytes)[i]);
  return key;
}

// The node's registered keys by kid: its first (nodes) and those it rotated to (node_keys),
// each with the node's revocation and, once the node moved on from it, when and to which kid.
Result<std::map<std::string, RegisteredKey>> NodeKeys(SqlLink& link, const std::string& node) {
  auto first = link.Run(
      "SELECT kid, public_key, revoked_at, revoke_reason FROM nodes WHERE node = $1", {node});
  if (!first) return Error{"reading the node's key: " + first.error()};
  if (first->empty()) return std::map<std::string, RegisteredKey>();
  const std::optional<std::int64_t> revoked_at = first->IntOr(0, 2);
  const std::string reason = first->Text(0, 3);
  auto rotated = link.Run(
      "SELECT kid, public_key, old_kid, since FROM node_keys WHERE node = $1 ORDER BY since",
      {node});
  if (!rotated) return Error{"reading the node's rotated keys: " + rotated.error()};
  std::map<std::string, RegisteredKey> keys;
  const auto add = [&](const std::string& kid, const std::string& text) -> Outcome {
    auto key = KeyOf(text);
    if (!key) return Error{key.error()};
    keys[kid] = {node, kid, *key, revoked_at, reason, std::nullopt, ""};
    return Success();
  };
  if (auto added = add(first->Text(0, 0), first->Text(0, 1)); !added) return Error{added.error()};
  for (int i = 0; i < rotated->size(); ++i) {
    if (auto added = add(rotated->Text(i, 0), rotated->Text(i, 1)); !added) {
      return Error{added.error()};
    }
  }
  for (int i = 0; i < rotated->size(); ++i) {
    auto old = keys.find(rotated->Text(i, 2));
    if (old == keys.end()) continue;
    old->second.retired_at = rotated->Int(i, 3);
    old->second.successor_kid = rotated->Text(i, 0);
  }
  return keys;
}

// Verified again now, and the stored columns are the signed record's.
void Check(ListedRecord& r, const std::string& node, const KeyLookup& lookup, std::int64_t now) {
  VerifyOutcome outcome = VerifyRecord(r.jws, lookup, now);
  if (const auto* refused = std::get_if<Rejection>(&outcome)) {
    r.reason = refused->reason.empty() ? "refused" : refused->reason;
    return;
  }
  const auto& v = std::get<VerifiedRecord>(outcome);
  if (v.hash != r.hash) {
    r.reason = "the stored hash is not the hash of the stored JWS";
  } else if (v.node != node || v.epoch != r.epoch || v.seq != r.seq) {
    r.reason = "the signed node, epoch or seq is not where it is stored";
  } else if (v.prev != r.prev || v.type != r.type || v.t != r.t) {
    r.reason = "the stored prev, type or t is not the signed one";
  } else {
    r.verified = true;
    if (const auto* beat = std::get_if<protocol::Heartbeat>(&v.decoded.body)) {
      r.minute = beat->minute;
    }
  }
}

Result<std::int64_t> SpanStart(std::string_view text, bool day) {
  const std::size_t size = day ? 10 : 13;
  const std::string_view name = day ? "day" : "hour";
  const std::string_view shape = day ? "YYYY-MM-DD" : "YYYY-MM-DDTHH";
  std::optional<std::int64_t> start;
  if (text.size() == size) {
    start = ParseUtcSeconds(std::string(text) + (day ? "T00:00:00Z" : ":00:00Z"));
  }
  if (!start) return Error{std::string(name) + ": expected " + std::string(shape) + " (UTC)"};
  return *start;
}

}  // namespace

Result<RecordSpan> ParseSpan(std::string_view query) {
  auto hour = QueryParam(query, "hour");
  if (!hour) return Error{hour.error()};
  auto day = QueryParam(query, "day");
  if (!day) return Error{day.error()};
  if (*hour && *day) return Error{"hour, day: give one of them, not both"};
  if (!*hour && !*day) return Error{"day: missing (give ?day=YYYY-MM-DD or ?hour=YYYY-MM-DDTHH)"};
  const bool by_day = day->has_value();
  const std::string& text = by_day ? **day : **hour;
  auto start = SpanStart(text, by_day);
  if (!start) return Error{start.error()};
  return RecordSpan{*start, *start + (by_day ? 86400 : 3600), text, by_day};
}

Result<RecordListing> ListRecords(SqlLink& link, const std::string& node, const RecordSpan& span,
                                  int limit, bool verify, std::int64_t now) {
  // t is RFC 3339 UTC text of one width: its text order is its time order (byte order:
  // PostgreSQL's index on records is COLLATE "C").
  const std::string t = link.postgres() ? "r.t COLLATE \"C\"" : "r.t";
  auto rows = link.Run(
      "SELECT r.epoch, r.seq, r.type, r.t, r.prev, r.hash, r.jws, r.received_at, "
      "CASE WHEN w.ack_seq IS NOT NULL AND r.seq <= w.ack_seq THEN 1 ELSE 0 END "
      "FROM records r LEFT JOIN watermarks w ON w.node = r.node AND w.epoch = r.epoch "
      "WHERE r.node = $1 AND " +
          t + " >= $2 AND " + t + " < $3 ORDER BY r.epoch, r.seq LIMIT " +
          std::to_string(limit + 1),
      {node, FormatUtc(span.begin), FormatUtc(span.end)});
  if (!rows) return Error{"reading records: " + rows.error()};
  RecordListing listing;
  std::map<std::string, RegisteredKey> keys;
  if (verify) {
    auto read = NodeKeys(link, node);
    if (!read) return Error{read.error()};
    keys = std::move(*read);
  }
  const KeyLookup lookup = [&keys](const std::string& kid) -> Result<std::optional<RegisteredKey>> {
    auto it = keys.find(kid);
    if (it == keys.end()) return std::optional<RegisteredKey>();
    return std::optional<RegisteredKey>(it->second);
  };
  for (int i = 0; i < rows->size(); ++i) {
    if (i == limit) {
      listing.cut = true;
      break;
    }
    ListedRecord r;
    r.epoch = rows->Int(i, 0);
    r.seq = rows->Int(i, 1);
    r.type = rows->Text(i, 2);
    r.t = rows->Text(i, 3);
    r.prev = rows->Text(i, 4);
    r.hash = rows->Text(i, 5);
    r.jws = rows->Text(i, 6);
    r.received_at = rows->Int(i, 7);
    r.chained = rows->Int(i, 8) != 0;
    if (auto header = ReadJwsHeader(r.jws)) r.kid = header->kid;
    if (verify) Check(r, node, lookup, now);
    listing.records.push_back(std::move(r));
  }
  return listing;
}

}  // namespace fleet::receiver
