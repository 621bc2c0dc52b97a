// MemoryRecordStore: a RecordStore in plain maps, for the record parser's fuzz harness
// (record_parser_harness.h), where a fresh store per input must cost microseconds, not a
// SQLite schema. Same rules as the SQLite store: insert once by (node, epoch, seq), the same
// hash again a duplicate, another hash a fork; Begin() snapshots, Rollback() restores.
// It never fails, so an ingest reply of 503 over it is a bug. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "receiver/core/record_store.h"

namespace fleet::fuzz {

class MemoryRecordStore final : public receiver::RecordStore {
 public:
  using NodeEntry = receiver::NodeEntry;
  using RegisteredKey = receiver::RegisteredKey;
  using VerifiedRecord = receiver::VerifiedRecord;
  using InsertResult = receiver::InsertResult;
  using Watermark = receiver::Watermark;
  using StoredLink = receiver::StoredLink;

  Outcome AddNode(const NodeEntry& entry) override {
    for (const auto& n : data_.nodes) {
      if (n.node == entry.node) return Error{"node " + entry.node + " already exists"};
      if (n.kid == entry.kid) return Error{"key " + entry.kid + " is already registered"};
    }
    for (const auto& k : data_.rotated) {
      if (k.kid == entry.kid) return Error{"key " + entry.kid + " is already registered"};
    }
    data_.nodes.push_back(entry);
    return Success();
  }
  Result<std::vector<NodeEntry>> ListNodes() override { return data_.nodes; }
  Outcome RevokeNode(const std::string& node, std::int64_t at, const std::string& reason) override {
    for (auto& n : data_.nodes) {
      if (n.node != node) continue;
      if (!n.revoked_at) {
        n.revoked_at = at;
        n.revoke_reason = reason;
      }
      return Success();
    }
    return Error{"no node " + node};
  }
  Result<std::optional<RegisteredKey>> FindKey(const std::string& kid) override {
    std::optional<RegisteredKey> found;
    for (const auto& n : data_.nodes) {
      if (n.kid == kid)
        found =
            RegisteredKey{n.node, n.kid, n.key, n.revoked_at, n.revoke_reason, std::nullopt, ""};
    }
    for (const auto& k : data_.rotated) {
      if (k.kid != kid) continue;
      for (const auto& n : data_.nodes) {
        if (n.node == k.node)
          found =
              RegisteredKey{n.node, k.kid, k.key, n.revoked_at, n.revoke_reason, std::nullopt, ""};
      }
    }
    if (!found) return found;
    for (const auto& k : data_.rotated) {
      if (k.old_kid != kid) continue;
      found->retired_at = k.since;
      found->successor_kid = k.kid;
    }
    return found;
  }
  Result<receiver::KeyRotation> AddRotatedKey(const receiver::RotatedKey& key) override {
    using receiver::KeyRotation;
    using receiver::RotateResult;
    for (const auto& k : data_.rotated) {
      if (k.kid == key.kid) {
        if (k.node == key.node && k.old_kid == key.old_kid)
          return KeyRotation{RotateResult::kAlready, ""};
        return KeyRotation{RotateResult::kRefused, receiver::RotatedKidTaken(key.kid)};
      }
    }
    for (const auto& n : data_.nodes) {
      if (n.kid == key.kid)
        return KeyRotation{RotateResult::kRefused, receiver::RotatedKidTaken(key.kid)};
    }
    for (const auto& k : data_.rotated) {
      if (k.old_kid == key.old_kid) {
        return KeyRotation{RotateResult::kRefused,
                           receiver::OldKidMoved(key.old_kid, k.kid, k.since)};
      }
    }
    data_.rotated.push_back(key);
    return KeyRotation{RotateResult::kAdded, ""};
  }
  Result<std::vector<receiver::RotatedKey>> RotatedKeys(const std::string& node) override {
    std::vector<receiver::RotatedKey> keys;
    for (const auto& k : data_.rotated) {
      if (k.node == node) keys.push_back(k);
    }
    return keys;
  }
  Outcome Ping() override { return Success(); }

  Outcome Begin() override {
    saved_ = data_;
    return Success();
  }
  Outcome Commit() override {
    saved_.reset();
    return Success();
  }
  void Rollback() override {
    if (saved_) data_ = std::move(*saved_);
    saved_.reset();
  }

  Result<InsertResult> InsertRecord(const VerifiedRecord& r, std::int64_t) override {
    auto [it, inserted] =
        data_.records.try_emplace({r.node, r.epoch, r.seq}, StoredLink{r.seq, r.prev, r.hash});
    if (inserted) {
      ++data_.per_minute[{r.node, r.t_unix - (r.t_unix % 60 + 60) % 60}];
      return InsertResult::kStored;
    }
    if (it->second.hash == r.hash) return InsertResult::kDuplicate;
    data_.forks.insert({r.node, r.epoch, r.seq, r.hash});
    return InsertResult::kFork;
  }
  Result<Watermark> LoadWatermark(const std::string& node, std::int64_t epoch) override {
    auto it = data_.marks.find({node, epoch});
    return it == data_.marks.end() ? Watermark{} : it->second;
  }
  Outcome SaveWatermark(const std::string& node, std::int64_t epoch,
                        const Watermark& mark) override {
    data_.marks[{node, epoch}] = mark;
    return Success();
  }
  Result<std::vector<StoredLink>> LinksFrom(const std::string& node, std::int64_t epoch,
                                            std::int64_t from_seq, int limit) override {
    std::vector<StoredLink> links;
    for (auto it = data_.records.lower_bound({node, epoch, from_seq});
         it != data_.records.end() && static_cast<int>(links.size()) < limit; ++it) {
      if (std::get<0>(it->first) != node || std::get<1>(it->first) != epoch) break;
      links.push_back(it->second);
    }
    return links;
  }
  Result<std::vector<std::pair<std::int64_t, std::int64_t>>> MissingRanges(
      const std::string& node, std::int64_t epoch, std::int64_t after_seq,
      int max_ranges) override {
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    std::int64_t before = after_seq;
    for (const auto& link : LinksAfter(node, epoch, after_seq)) {
      if (static_cast<int>(ranges.size()) >= max_ranges) break;
      if (link.seq > before + 1) ranges.emplace_back(before + 1, link.seq - 1);
      before = link.seq;
    }
    return ranges;
  }
  Result<std::int64_t> MaxEpoch(const std::string& node) override {
    std::int64_t max = 0;
    for (const auto& [key, link] : data_.records) {
      if (std::get<0>(key) == node) max = std::max(max, std::get<1>(key));
    }
    return max;
  }

  Result<std::int64_t> CountInMinute(const std::string& node, std::int64_t minute) override {
    auto it = data_.per_minute.find({node, minute});
    return it == data_.per_minute.end() ? 0 : it->second;
  }

  // For the harness's checks: how many records and forks are stored.
  std::size_t RecordCount() const { return data_.records.size(); }
  std::size_t ForkCount() const { return data_.forks.size(); }

 private:
  std::vector<StoredLink> LinksAfter(const std::string& node, std::int64_t epoch,
                                     std::int64_t after_seq) const {
    std::vector<StoredLink> links;
    for (const auto& [key, link] : data_.records) {
      if (std::get<0>(key) == node && std::get<1>(key) == epoch && link.seq > after_seq) {
        links.push_back(link);
      }
    }
    return links;
  }

  struct Data {
    std::vector<NodeEntry> nodes;
    std::vector<receiver::RotatedKey> rotated;
    std::map<std::tuple<std::string, std::int64_t, std::int64_t>, StoredLink> records;
    std::set<std::tuple<std::string, std::int64_t, std::int64_t, std::string>> forks;
    std::map<std::pair<std::string, std::int64_t>, Watermark> marks;
    std::map<std::pair<std::string, std::int64_t>, std::int64_t> per_minute;  // by t's minute
  };
  Data data_;
  std::optional<Data> saved_;
};

}  // namespace fleet::fuzz
