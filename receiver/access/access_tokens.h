// AccessTokens: who may look at the dashboard and its JSON API (issue 15). The foundation
// issues a token per operator or for its admin (`fleet-receiver tokens add`): `fr_` and the
// base64url of 32 random bytes, shown once and kept only as its SHA-256 digest, under an id
// `t-` + 8 hex digits that the list, the revocation and the logs name. A token stands for a
// Viewer (viewer.h) until it expires or is revoked, or its operator is revoked (the registry's
// operator_revocations); a token for an operator the registry does not know is refused. Its
// last use is written at most once a minute, not on every request. A login makes a session:
// a random secret (the cookie), kept as its digest, bound to the token (revoking the token
// ends its sessions, and the token's expiry and operator still apply) and to the Host it was
// made for, good for kSessionSeconds. The same SQL on SQLite and PostgreSQL (sql_link.h); the
// tables come with the stores' schemas (access_tokens, web_sessions). Not thread-safe: it
// uses the caller's link, one per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "receiver/access/viewer.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

inline constexpr std::int64_t kSessionSeconds = 12 * 3600;
inline constexpr std::size_t kMaxTokenLabel = 200;
// The last use is written when the stored one is older than this.
inline constexpr std::int64_t kLastUseResolution = 60;

struct IssuedAccessToken {
  std::string id;
  std::string token;  // shown once; only its digest is kept
  std::optional<std::int64_t> expires_at;
};

struct AccessTokenInfo {
  std::string id;
  std::optional<std::string> operator_id;  // nullopt: an admin token
  std::string label;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> revoked_at;
  std::optional<std::int64_t> last_used_at;
};

class AccessTokens {
 public:
  explicit AccessTokens(SqlLink& link) : link_(link) {}

  // operator_id nullopt: an admin token. A token for an operator not in the registry (the
  // operators table or a registered node's operator) or revoked is refused, as are a label
  // that is not plain text of at most kMaxTokenLabel bytes and a ttl_s not above 0.
  Result<IssuedAccessToken> Add(std::optional<std::string> operator_id, std::string label,
                                std::optional<std::int64_t> ttl_s, std::int64_t now);
  // Oldest first.
  Result<std::vector<AccessTokenInfo>> List();
  // false: no such token. Revoking again keeps the first time; the token's sessions end.
  Result<bool> Revoke(std::string_view id, std::int64_t now);
  // The viewer a bearer token stands for; nullopt when unknown, expired or revoked (or its
  // operator revoked).
  Result<std::optional<Viewer>> Check(std::string_view token, std::int64_t now);
  // Sessions (the login cookie): returns the secret to send. The viewer's token must still be
  // good; host is the request's Host header (compared without regard to ASCII case).
  Result<std::string> OpenSession(const Viewer& viewer, std::string_view host, std::int64_t now);
  // nullopt: unknown secret, another Host, expired, or its token no longer good.
  Result<std::optional<Viewer>> CheckSession(std::string_view secret, std::string_view host,
                                             std::int64_t now);
  Outcome CloseSession(std::string_view secret);

 private:
  // The viewer of a token's row (kTokenColumns in the .cc) when it is good at `now`; notes
  // its last use.
  Result<std::optional<Viewer>> GoodToken(const SqlRows& rows, std::int64_t now);

  SqlLink& link_;
};

// The shapes AccessTokens hands out, for a cheap refusal before any lookup.
bool LooksLikeAccessToken(std::string_view text);
bool LooksLikeSessionSecret(std::string_view text);

}  // namespace fleet::receiver
