#include "protocol/push_reply.h"

#include <algorithm>

#include "base/json_text.h"

namespace fleet::protocol {
namespace {

using nlohmann::json;

json RejectedJson(const std::vector<RejectedLine>& rejected) {
  json out = json::array();
  for (const auto& r : rejected) out.push_back({{"line", r.line}, {"reason", r.reason}});
  return out;
}

Result<std::int64_t> Integer(const json& object, const char* key, std::int64_t min) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) {
    return Error{std::string("reply has no integer '") + key + "'"};
  }
  const auto value = it->get<std::int64_t>();
  if (value < min) return Error{std::string("reply '") + key + "' is out of range"};
  return value;
}

// An optional integer field: absent or null is nullopt.
Result<std::optional<std::int64_t>> OptionalInteger(const json& object, const char* key,
                                                    std::int64_t min) {
  if (!object.contains(key) || object[key].is_null()) return std::optional<std::int64_t>();
  auto value = Integer(object, key, min);
  if (!value) return Error{value.error()};
  return std::optional<std::int64_t>(*value);
}

Result<std::vector<RejectedLine>> RejectedLines(const json& j) {
  std::vector<RejectedLine> lines;
  auto rejected = j.find("rejected");
  if (rejected == j.end() || rejected->is_null()) return lines;
  if (!rejected->is_array()) return Error{"reply 'rejected' is not a list"};
  for (const auto& item : *rejected) {
    RejectedLine line;
    if (item.is_object()) {
      if (auto n = item.find("line"); n != item.end() && n->is_number_integer()) {
        line.line = std::max<std::int64_t>(n->get<std::int64_t>(), 0);
      }
    }
    const bool has_reason =
        item.is_object() && item.contains("reason") && item["reason"].is_string();
    line.reason =
        PrintableAscii(has_reason ? item["reason"].get<std::string>() : DumpJson(item), 200);
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace

json EncodePushAck(const PushAck& ack) {
  json gaps = json::array();
  for (const auto& [first, last] : ack.gaps) gaps.push_back({first, last});
  json out = {{"node", ack.node},       {"epoch", ack.epoch},
              {"ack_seq", ack.ack_seq}, {"gaps", std::move(gaps)},
              {"stored", ack.stored},   {"duplicates", ack.duplicates},
              {"forks", ack.forks},     {"rejected", RejectedJson(ack.rejected)}};
  if (ack.chain_break) out["chain_break"] = *ack.chain_break;
  if (ack.next_epoch) out["next_epoch"] = *ack.next_epoch;
  return out;
}

json EncodePushRefusal(const PushRefusal& refusal) {
  json out = {{"error", refusal.error}};
  if (!refusal.rejected.empty()) out["rejected"] = RejectedJson(refusal.rejected);
  return out;
}

Result<PushAck> DecodePushAck(std::string_view body) {
  if (body.size() > kMaxPushReplyBytes) return Error{"reply is larger than 1 MiB"};
  auto parsed = ParseJsonText(body);
  if (!parsed) return Error{"reply is not JSON: " + parsed.error()};
  const json& j = *parsed;
  if (!j.is_object()) return Error{"reply is not a JSON object"};
  PushAck ack;
  auto node = j.find("node");
  if (node == j.end() || !node->is_string()) return Error{"reply has no string 'node'"};
  ack.node = node->get<std::string>();
  auto epoch = Integer(j, "epoch", 1);
  if (!epoch) return Error{epoch.error()};
  ack.epoch = *epoch;
  auto ack_seq = Integer(j, "ack_seq", 0);
  if (!ack_seq) return Error{ack_seq.error()};
  ack.ack_seq = *ack_seq;
  for (auto [key, field] : {std::pair{"stored", &ack.stored}, {"duplicates", &ack.duplicates}}) {
    auto n = OptionalInteger(j, key, 0);
    if (!n) return Error{n.error()};
    *field = n->value_or(0);
  }
  if (auto gaps = j.find("gaps"); gaps != j.end()) {
    if (!gaps->is_array()) return Error{"reply 'gaps' is not a list"};
    for (const auto& gap : *gaps) {
      if (!gap.is_array() || gap.size() != 2 || !gap[0].is_number_integer() ||
          !gap[1].is_number_integer() || gap[0].get<std::int64_t>() < 1 ||
          gap[1].get<std::int64_t>() < gap[0].get<std::int64_t>()) {
        return Error{"reply 'gaps' holds something other than [first, last] ranges"};
      }
      ack.gaps.emplace_back(gap[0].get<std::int64_t>(), gap[1].get<std::int64_t>());
    }
  }
  if (auto forks = j.find("forks"); forks != j.end()) {
    if (!forks->is_array()) return Error{"reply 'forks' is not a list"};
    for (const auto& seq : *forks) {
      if (!seq.is_number_integer()) return Error{"reply 'forks' holds a non-integer"};
      ack.forks.push_back(seq.get<std::int64_t>());
    }
  }
  auto rejected = RejectedLines(j);
  if (!rejected) return Error{rejected.error()};
  ack.rejected = std::move(rejected).value();
  auto chain_break = OptionalInteger(j, "chain_break", 1);
  if (!chain_break) return Error{chain_break.error()};
  ack.chain_break = *chain_break;
  auto next_epoch = OptionalInteger(j, "next_epoch", 1);
  if (!next_epoch) return Error{next_epoch.error()};
  ack.next_epoch = *next_epoch;
  return ack;
}

Result<PushRefusal> DecodePushRefusal(std::string_view body) {
  if (body.size() > kMaxPushReplyBytes) return Error{"reply is larger than 1 MiB"};
  auto parsed = ParseJsonText(body);
  if (!parsed) return Error{"reply is not JSON: " + parsed.error()};
  const json& j = *parsed;
  if (!j.is_object()) return Error{"reply is not a JSON object"};
  auto error = j.find("error");
  if (error == j.end() || !error->is_string()) return Error{"reply has no string 'error'"};
  PushRefusal refusal;
  refusal.error = PrintableAscii(error->get<std::string>(), kMaxRefusalChars);
  auto rejected = RejectedLines(j);
  if (!rejected) return Error{rejected.error()};
  refusal.rejected = std::move(rejected).value();
  return refusal;
}

}  // namespace fleet::protocol
