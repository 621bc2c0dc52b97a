#include "protocol/record_chain.h"

#include <nlohmann/json.hpp>

namespace fleet {

ChainVerdict VerifyRecordChain(const std::vector<std::string>& lines, const PublicKey& key) {
  ChainVerdict verdict;
  const std::string kid = KeyId(key);
  std::string node;
  std::int64_t epoch = 0;
  std::int64_t last_seq = 0;
  std::string last_hash;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto fail = [&](std::string reason) {
      verdict.bad_line = i + 1;
      verdict.reason = std::move(reason);
      return verdict;
    };
    auto verified = VerifyCompactJws(lines[i], key);
    if (!verified) return fail(verified.error());
    if (verified->kid != kid) return fail("kid " + verified->kid + " is not this key's " + kid);
    const auto payload = nlohmann::json::parse(verified->payload, nullptr, false);
    if (payload.is_discarded() || !payload.is_object()) return fail("payload is not JSON");
    const auto seq_it = payload.find("seq");
    const auto epoch_it = payload.find("epoch");
    const auto node_it = payload.find("node");
    const auto prev_it = payload.find("prev");
    if (seq_it == payload.end() || !seq_it->is_number_integer() || epoch_it == payload.end() ||
        !epoch_it->is_number_integer() || node_it == payload.end() || !node_it->is_string() ||
        prev_it == payload.end() || !prev_it->is_string()) {
      return fail("payload lacks node, epoch, seq or prev");
    }
    const std::int64_t seq = seq_it->get<std::int64_t>();
    const std::string prev = prev_it->get<std::string>();
    if (i == 0) {
      node = node_it->get<std::string>();
      epoch = epoch_it->get<std::int64_t>();
      if (seq == 1 && prev != GenesisHash()) return fail("seq 1 must start the chain");
    } else {
      if (node_it->get<std::string>() != node)
        return fail("node changed to " + node_it->get<std::string>());
      if (epoch_it->get<std::int64_t>() != epoch) return fail("epoch changed");
      if (seq != last_seq + 1) {
        return fail("seq " + std::to_string(seq) + " follows " + std::to_string(last_seq) +
                    " (expected " + std::to_string(last_seq + 1) + ")");
      }
      if (prev != last_hash) return fail("prev does not match the record before");
    }
    last_seq = seq;
    last_hash = ChainHash(lines[i]);
    ++verdict.records;
  }
  return verdict;
}

}  // namespace fleet
