// RecordChain: checks a sequence of signed records (one compact JWS each, oldest first)
// the way the receiver will: every signature verifies with the node's key, `kid` matches
// it, all records name one node and epoch, `seq` rises by exactly one, and each `prev` is
// the chain hash of the record before (the genesis hash when seq is 1). Reports the first
// record that breaks a rule, by its 1-based position. Pure.
#pragma once

#include <string>
#include <vector>

#include "protocol/jws.h"

namespace fleet {

struct ChainVerdict {
  std::size_t records = 0;   // how many verified before stopping
  std::size_t bad_line = 0;  // 0 when all good
  std::string reason;        // why bad_line is bad
  bool ok() const { return bad_line == 0; }
};

ChainVerdict VerifyRecordChain(const std::vector<std::string>& lines, const PublicKey& key);

}  // namespace fleet
