// Enrolments: a node registers its own key, proving it holds it (issue 16). The foundation
// issues a one-time token for an operator (`fleet-receiver enroll-token`), optionally bound to
// a node id, stored as its SHA-256 digest only, expiring. The node asks for a nonce
// (POST /v1/enroll/nonce: random, good for kNonceSeconds, once), then sends its public JWK,
// node id, the token and the nonce with a proof its key signed over them
// (protocol/key_proof.h, EnrolProof) to POST /v1/enroll. Enrol registers the node under the
// token's operator and burns the token, in one transaction, or refuses with a status and a
// reason: 400 a malformed request; 403 an unknown, used or expired token, a token for another
// node, an unknown or used nonce, a proof that does not verify, a revoked operator; 409 a
// public key already registered to a node (any operator, rotated keys too: a key may belong
// to one node only; `foundation_event` set, for the log) or a node id taken by another key.
// The nonce is burnt before anything else is looked at, whatever the outcome. Sent again by
// the node that enrolled with it (its reply lost), a used token with the same node and key
// answers as the first time. The same SQL on SQLite and PostgreSQL (sql_link.h); the tables
// come with the stores' schemas (enrol_tokens, enrol_nonces). AttemptLimiter bounds the
// attempts per client address.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

inline constexpr std::int64_t kNonceSeconds = 300;
inline constexpr std::int64_t kDefaultTokenSeconds = 24 * 3600;
inline constexpr std::int64_t kMaxTokenSeconds = 30 * 24 * 3600;

struct EnrolToken {
  std::string token;  // shown once; only its digest is kept
  std::int64_t expires_at = 0;
};

struct EnrolRequest {
  std::string token;
  std::string node;
  std::string jwk;  // the JSON text of the public JWK
  std::string nonce;
  std::string proof;
};

struct Enrolled {
  std::string node;
  std::string operator_id;
  std::string kid;
  std::int64_t registered_at = 0;
};

struct EnrolRefusal {
  int status = 403;
  std::string reason;
  bool foundation_event = false;  // someone sent a key registered to another node
};

using EnrolOutcome = std::variant<Enrolled, EnrolRefusal>;

// {"token","node","jwk","nonce","proof"}: strings, each once, nothing else (jwk an object).
Result<EnrolRequest> ParseEnrolRequest(std::string_view json_text);

class Enrolments {
 public:
  explicit Enrolments(SqlLink& link) : link_(link) {}

  // node: empty for any; ttl_seconds in (0, kMaxTokenSeconds].
  Result<EnrolToken> IssueToken(const std::string& operator_id, const std::string& node,
                                std::int64_t ttl_seconds, std::int64_t now);
  Result<std::string> IssueNonce(std::int64_t now);
  Result<EnrolOutcome> Enrol(const EnrolRequest& request, std::int64_t now);

 private:
  SqlLink& link_;
};

// At most `per_minute` attempts from one address in any 60 s. Thread-safe.
class AttemptLimiter {
 public:
  explicit AttemptLimiter(int per_minute) : per_minute_(per_minute) {}
  bool Allow(const std::string& peer, std::int64_t now);

 private:
  int per_minute_;
  std::mutex mutex_;
  std::map<std::string, std::deque<std::int64_t>> attempts_;
};

}  // namespace fleet::receiver
