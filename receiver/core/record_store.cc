#include "receiver/core/record_store.h"

namespace fleet::receiver {

Result<std::vector<InsertResult>> RecordStore::InsertRecords(
    std::span<const VerifiedRecord> records, std::int64_t received_at) {
  std::vector<InsertResult> results;
  results.reserve(records.size());
  for (const VerifiedRecord& record : records) {
    auto inserted = InsertRecord(record, received_at);
    if (!inserted) return Error{inserted.error()};
    results.push_back(*inserted);
  }
  return results;
}

Result<std::map<std::int64_t, std::int64_t>> RecordStore::CountInMinutes(
    const std::string& node, std::span<const std::int64_t> minutes) {
  std::map<std::int64_t, std::int64_t> counts;
  for (std::int64_t minute : minutes) {
    if (counts.contains(minute)) continue;
    auto count = CountInMinute(node, minute);
    if (!count) return Error{count.error()};
    counts.emplace(minute, *count);
  }
  return counts;
}

}  // namespace fleet::receiver
