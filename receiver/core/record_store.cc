#include "receiver/core/record_store.h"

#include "base/utc_time.h"

namespace fleet::receiver {

std::string RotatedKidTaken(const std::string& kid) {
  return "kid " + kid + " is already registered: a key may belong to one node only, once";
}

std::string OldKidMoved(const std::string& old_kid, const std::string& moved_to, std::int64_t at) {
  return "kid " + old_kid + " already moved to kid " + moved_to + " at " + FormatUtc(at) +
         ": a key moves once";
}

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
