#include "receiver/registry/enrolments.h"

#include <sodium.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/utc_time.h"
#include "protocol/jws.h"
#include "protocol/key_proof.h"
#include "receiver/registry/revocations.h"

namespace fleet::receiver {
namespace {

// The node ids the agent accepts: 1 to 64 letters, digits, '.', '-', '_'.
bool IsNodeId(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

std::string RandomText(std::size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return Base64UrlEncode(raw);
}

EnrolRefusal Refuse(int status, std::string reason, bool event = false) {
  return {status, std::move(reason), event};
}

}  // namespace

Result<EnrolRequest> ParseEnrolRequest(std::string_view json_text) {
  if (json_text.size() > 16 * 1024) return Error{"the request is larger than 16 KiB"};
  auto parsed = ParseStrictJson(json_text, 3);
  if (!parsed) return Error{"the request: " + parsed.error()};
  if (!parsed->is_object()) return Error{"the request is not a JSON object"};
  EnrolRequest request;
  const std::pair<const char*, std::string*> fields[] = {{"token", &request.token},
                                                         {"node", &request.node},
                                                         {"nonce", &request.nonce},
                                                         {"proof", &request.proof}};
  for (const auto& item : parsed->items()) {
    const std::string& key = item.key();
    if (key == "jwk") {
      if (!item.value().is_object()) return Error{"jwk must be a JSON object"};
      request.jwk = item.value().dump();
      continue;
    }
    bool known = false;
    for (const auto& [name, out] : fields) {
      if (key != name) continue;
      known = true;
      if (!item.value().is_string() || item.value().get_ref<const std::string&>().empty()) {
        return Error{std::string(name) + " must be a non-empty string"};
      }
      *out = item.value().get<std::string>();
    }
    if (!known) return Error{"unknown field '" + PrintableAscii(key, 40) + "'"};
  }
  for (const auto& [name, out] : fields) {
    if (out->empty()) return Error{std::string(name) + " is missing"};
  }
  if (request.jwk.empty()) return Error{"jwk is missing"};
  return request;
}

Result<EnrolToken> Enrolments::IssueToken(const std::string& operator_id, const std::string& node,
                                          std::int64_t ttl_seconds, std::int64_t now) {
  if (!IsNodeId(operator_id))
    return Error{"'" + PrintableAscii(operator_id, 80) + "' is no operator id"};
  if (!node.empty() && !IsNodeId(node))
    return Error{"'" + PrintableAscii(node, 80) + "' is no node id"};
  if (ttl_seconds <= 0 || ttl_seconds > kMaxTokenSeconds) {
    return Error{"a token lasts more than 0 s and at most 30 days"};
  }
  auto left = Revocations(link_).Find(operator_id);
  if (!left) return Error{left.error()};
  if (left->has_value()) {
    return Error{"operator " + operator_id + " was revoked at " + FormatUtc((*left)->revoked_at) +
                 ": no node is enrolled for them"};
  }
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
  EnrolToken token{RandomText(32), now + ttl_seconds};
  auto saved = link_.Run(
      "INSERT INTO enrol_tokens (token_hash, operator, node, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      {protocol::TokenDigest(token.token), operator_id, node.empty() ? SqlValue() : SqlValue(node),
       now, token.expires_at});
  if (!saved) return Error{saved.error()};
  return token;
}

Result<std::string> Enrolments::IssueNonce(std::int64_t now) {
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
  if (auto old = link_.Run("DELETE FROM enrol_nonces WHERE expires_at < $1", {now}); !old) {
    return Error{old.error()};
  }
  std::string nonce = RandomText(24);
  auto saved = link_.Run("INSERT INTO enrol_nonces (nonce, expires_at) VALUES ($1, $2)",
                         {nonce, now + kNonceSeconds});
  if (!saved) return Error{saved.error()};
  return nonce;
}

Result<EnrolOutcome> Enrolments::Enrol(const EnrolRequest& request, std::int64_t now) {
  // The nonce first, burnt whatever follows: one attempt per nonce.
  auto burnt = link_.Run("DELETE FROM enrol_nonces WHERE nonce = $1 AND expires_at >= $2",
                         {request.nonce, now});
  if (!burnt) return Error{burnt.error()};
  if (burnt->affected() != 1) {
    return EnrolOutcome(
        Refuse(403, "unknown, used or expired nonce: ask POST /v1/enroll/nonce for a new one"));
  }
  if (!IsNodeId(request.node)) {
    return EnrolOutcome(Refuse(400, "node '" + PrintableAscii(request.node, 80) +
                                        "' is not a node id (1 to 64 letters, digits, '.', '-', "
                                        "'_')"));
  }
  auto key = ParsePublicJwk(request.jwk);
  if (!key) return EnrolOutcome(Refuse(400, "jwk: " + key.error()));
  const std::string kid = KeyId(*key);
  const std::string digest = protocol::TokenDigest(request.token);
  if (auto proven =
          protocol::VerifyEnrolProof(request.proof, *key, {request.node, request.nonce, digest});
      !proven) {
    return EnrolOutcome(Refuse(403, "proof of possession: " + proven.error()));
  }

  EnrolOutcome outcome = Refuse(500, "not decided");
  auto done = InTransaction(link_, [&]() -> Outcome {
    auto token = link_.Run(
        "SELECT operator, node, expires_at, used_at, used_by FROM enrol_tokens "
        "WHERE token_hash = $1",
        {digest});
    if (!token) return Error{token.error()};
    if (token->empty()) {
      outcome =
          Refuse(403, "unknown token: ask the foundation for one (fleet-receiver enroll-token)");
      return Success();
    }
    const std::string operator_id = token->Text(0, 0);
    if (!token->IsNull(0, 3)) {
      // The node that used it, again with the same key (its reply lost): the same answer.
      auto mine =
          link_.Run("SELECT added_at FROM nodes WHERE node = $1 AND kid = $2", {request.node, kid});
      if (!mine) return Error{mine.error()};
      if (token->Text(0, 4) == request.node && !mine->empty()) {
        outcome = Enrolled{request.node, operator_id, kid, mine->Int(0, 0)};
      } else {
        outcome = Refuse(403, "token already used at " + FormatUtc(token->Int(0, 3)));
      }
      return Success();
    }
    if (token->Int(0, 2) < now) {
      outcome = Refuse(403, "token expired at " + FormatUtc(token->Int(0, 2)));
      return Success();
    }
    if (!token->IsNull(0, 1) && token->Text(0, 1) != request.node) {
      outcome = Refuse(403, "this token enrols node " + token->Text(0, 1) + " only");
      return Success();
    }
    auto left = Revocations(link_).Find(operator_id);
    if (!left) return Error{left.error()};
    if (left->has_value()) {
      outcome = Refuse(403, "operator " + operator_id + " was revoked");
      return Success();
    }
    auto holder = link_.Run(
        "SELECT node FROM nodes WHERE kid = $1 UNION ALL SELECT node FROM node_keys WHERE kid = $1",
        {kid});
    if (!holder) return Error{holder.error()};
    if (!holder->empty()) {
      outcome = Refuse(409,
                       "this public key (kid " + kid +
                           ") is already registered to a node: a key may belong to one node only",
                       true);
      return Success();
    }
    auto taken = link_.Run("SELECT kid FROM nodes WHERE node = $1", {request.node});
    if (!taken) return Error{taken.error()};
    if (!taken->empty()) {
      outcome = Refuse(409, "node id " + request.node + " is taken by another key");
      return Success();
    }
    auto added = link_.Run(
        "INSERT INTO nodes (node, operator, kid, public_key, added_at) VALUES ($1, $2, $3, $4, $5)",
        {request.node, operator_id, kid,
         Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(key->data()), key->size())),
         now});
    if (!added) return Error{added.error()};
    auto used =
        link_.Run("UPDATE enrol_tokens SET used_at = $2, used_by = $3 WHERE token_hash = $1",
                  {digest, now, request.node});
    if (!used) return Error{used.error()};
    outcome = Enrolled{request.node, operator_id, kid, now};
    return Success();
  });
  if (!done) return Error{done.error()};
  return outcome;
}

bool AttemptLimiter::Allow(const std::string& peer, std::int64_t now) {
  std::lock_guard lock(mutex_);
  // Forget the addresses quiet for a minute, so the map stays small.
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    while (!it->second.empty() && it->second.front() <= now - 60) it->second.pop_front();
    it = it->second.empty() ? attempts_.erase(it) : std::next(it);
  }
  auto& times = attempts_[peer];
  if (static_cast<int>(times.size()) >= per_minute_) return false;
  times.push_back(now);
  return true;
}

}  // namespace fleet::receiver
