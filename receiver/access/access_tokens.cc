#include "receiver/access/access_tokens.h"

#include <sodium.h>

#include <cctype>
#include <cstdio>

#include "base/json_text.h"
#include "base/text.h"
#include "protocol/jws.h"
#include "protocol/key_proof.h"
#include "receiver/registry/revocations.h"

namespace fleet::receiver {
namespace {

constexpr std::string_view kTokenPrefix = "fr_";
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kSecretChars = 43;  // base64url of 32 bytes, unpadded
constexpr std::size_t kMaxHost = 255;

// A token's row as GoodToken reads it: id, operator, expires_at, revoked_at, last_used_at,
// and whether its operator was revoked.
constexpr std::string_view kTokenColumns =
    "t.id, t.operator, t.expires_at, t.revoked_at, t.last_used_at, "
    "(SELECT count(*) FROM operator_revocations r WHERE r.operator = t.operator)";

bool IsOperatorId(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

bool IsBase64Url(std::string_view text) {
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

std::string RandomBytes(std::size_t n) {
  std::string raw(n, '\0');
  randombytes_buf(raw.data(), raw.size());
  return raw;
}

std::string NewTokenId() {
  const std::string raw = RandomBytes(4);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", static_cast<unsigned char>(raw[0]),
                static_cast<unsigned char>(raw[1]), static_cast<unsigned char>(raw[2]),
                static_cast<unsigned char>(raw[3]));
  return "t-" + std::string(hex);
}

// Hosts are compared without regard to ASCII case; nullopt: not a Host header's text.
std::optional<std::string> HostKey(std::string_view host) {
  if (host.empty() || host.size() > kMaxHost) return std::nullopt;
  std::string out;
  for (char c : host) {
    if (c <= ' ' || c > '~') return std::nullopt;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// In the operators table, or named by a registered node. The operators table comes with the
// reports' registry: a SQLite database whose operators were never added has none, and then
// only the nodes say who is an operator.
Result<bool> OperatorKnown(SqlLink& link, const std::string& operator_id) {
  auto nodes = link.Run("SELECT count(*) FROM nodes WHERE operator = $1", {operator_id});
  if (!nodes) return Error{nodes.error()};
  if (nodes->Int(0, 0) > 0) return true;
  auto ops = link.Run("SELECT count(*) FROM operators WHERE id = $1", {operator_id});
  return ops && ops->Int(0, 0) > 0;
}

}  // namespace

bool LooksLikeAccessToken(std::string_view text) {
  return text.size() == kTokenPrefix.size() + kSecretChars && text.starts_with(kTokenPrefix) &&
         IsBase64Url(text.substr(kTokenPrefix.size()));
}

bool LooksLikeSessionSecret(std::string_view text) {
  return text.size() == kSecretChars && IsBase64Url(text);
}

Result<IssuedAccessToken> AccessTokens::Add(std::optional<std::string> operator_id,
                                            std::string label, std::optional<std::int64_t> ttl_s,
                                            std::int64_t now) {
  if (operator_id && !IsOperatorId(*operator_id)) {
    return Error{"'" + PrintableAscii(*operator_id, 80) +
                 "' is not an operator id (1 to 64 letters, digits, '.', '-', '_')"};
  }
  if (label.size() > kMaxTokenLabel || (!label.empty() && !IsPlainUtf8Text(label))) {
    return Error{"a label is plain text of at most " + std::to_string(kMaxTokenLabel) + " bytes"};
  }
  if (ttl_s && *ttl_s <= 0) return Error{"a token's lifetime must be more than 0 s"};
  if (operator_id) {
    auto known = OperatorKnown(link_, *operator_id);
    if (!known) return Error{known.error()};
    if (!*known) {
      return Error{"no operator " + *operator_id +
                   " in the registry (operators add, or a node of theirs)"};
    }
    auto left = Revocations(link_).Find(*operator_id);
    if (!left) return Error{left.error()};
    if (left->has_value()) return Error{"operator " + *operator_id + " was revoked"};
  }
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
  IssuedAccessToken issued;
  issued.token = std::string(kTokenPrefix) + Base64UrlEncode(RandomBytes(kSecretBytes));
  if (ttl_s) issued.expires_at = now + *ttl_s;
  // Ids are short: on the rare collision, draw another.
  for (int attempt = 0; attempt < 8; ++attempt) {
    issued.id = NewTokenId();
    auto saved = link_.Run(
        "INSERT INTO access_tokens (id, token_hash, operator, label, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        {issued.id, protocol::TokenDigest(issued.token), SqlOr(operator_id), label, now,
         SqlOr(issued.expires_at)});
    if (!saved) return Error{saved.error()};
    if (saved->affected() == 1) return issued;
  }
  return Error{"could not draw a free token id"};
}

Result<std::vector<AccessTokenInfo>> AccessTokens::List() {
  auto rows = link_.Run(
      "SELECT id, operator, label, created_at, expires_at, revoked_at, last_used_at "
      "FROM access_tokens ORDER BY created_at, id");
  if (!rows) return Error{rows.error()};
  std::vector<AccessTokenInfo> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->Text(i, 0), rows->TextOr(i, 1), rows->Text(i, 2), rows->Int(i, 3),
                   rows->IntOr(i, 4), rows->IntOr(i, 5), rows->IntOr(i, 6)});
  }
  return out;
}

Result<bool> AccessTokens::Revoke(std::string_view id, std::int64_t now) {
  bool found = false;
  const std::string key(id);
  auto done = InTransaction(link_, [&]() -> Outcome {
    auto exists = link_.Run("SELECT count(*) FROM access_tokens WHERE id = $1", {key});
    if (!exists) return Error{exists.error()};
    found = exists->Int(0, 0) > 0;
    if (!found) return Success();
    auto revoked =
        link_.Run("UPDATE access_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                  {key, now});
    if (!revoked) return Error{revoked.error()};
    auto ended = link_.Run("DELETE FROM web_sessions WHERE token_id = $1", {key});
    if (!ended) return Error{ended.error()};
    return Success();
  });
  if (!done) return Error{done.error()};
  return found;
}

Result<std::optional<Viewer>> AccessTokens::GoodToken(const SqlRows& rows, std::int64_t now) {
  if (rows.empty()) return std::optional<Viewer>();
  const auto expires_at = rows.IntOr(0, 2);
  if (!rows.IsNull(0, 3) || (expires_at && *expires_at <= now) || rows.Int(0, 5) > 0) {
    return std::optional<Viewer>();
  }
  Viewer viewer{rows.TextOr(0, 1), rows.Text(0, 0)};
  const auto last = rows.IntOr(0, 4);
  if (!last || *last <= now - kLastUseResolution) {
    // The condition again in SQL: of several requests at once, one writes.
    auto noted = link_.Run(
        "UPDATE access_tokens SET last_used_at = $2 WHERE id = $1 "
        "AND (last_used_at IS NULL OR last_used_at <= $3)",
        {viewer.token_id, now, now - kLastUseResolution});
    if (!noted) return Error{noted.error()};
  }
  return std::optional<Viewer>(std::move(viewer));
}

Result<std::optional<Viewer>> AccessTokens::Check(std::string_view token, std::int64_t now) {
  if (!LooksLikeAccessToken(token)) return std::optional<Viewer>();
  auto rows = link_.Run(
      "SELECT " + std::string(kTokenColumns) + " FROM access_tokens t WHERE t.token_hash = $1",
      {protocol::TokenDigest(token)});
  if (!rows) return Error{rows.error()};
  return GoodToken(*rows, now);
}

Result<std::string> AccessTokens::OpenSession(const Viewer& viewer, std::string_view host,
                                              std::int64_t now) {
  const auto host_key = HostKey(host);
  if (!host_key) return Error{"a session needs the request's Host"};
  auto rows =
      link_.Run("SELECT " + std::string(kTokenColumns) + " FROM access_tokens t WHERE t.id = $1",
                {viewer.token_id});
  if (!rows) return Error{rows.error()};
  auto good = GoodToken(*rows, now);
  if (!good) return Error{good.error()};
  if (!*good) return Error{"token " + PrintableAscii(viewer.token_id, 40) + " is not good now"};
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
  // Sessions that ended are forgotten as new ones begin.
  if (auto old = link_.Run("DELETE FROM web_sessions WHERE expires_at <= $1", {now}); !old) {
    return Error{old.error()};
  }
  std::string secret = Base64UrlEncode(RandomBytes(kSecretBytes));
  auto saved = link_.Run(
      "INSERT INTO web_sessions (secret_hash, token_id, host, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      {protocol::TokenDigest(secret), viewer.token_id, *host_key, now, now + kSessionSeconds});
  if (!saved) return Error{saved.error()};
  return secret;
}

Result<std::optional<Viewer>> AccessTokens::CheckSession(std::string_view secret,
                                                         std::string_view host, std::int64_t now) {
  const auto host_key = HostKey(host);
  if (!LooksLikeSessionSecret(secret) || !host_key) return std::optional<Viewer>();
  auto rows = link_.Run("SELECT " + std::string(kTokenColumns) +
                            ", s.host, s.expires_at FROM web_sessions s "
                            "JOIN access_tokens t ON t.id = s.token_id WHERE s.secret_hash = $1",
                        {protocol::TokenDigest(secret)});
  if (!rows) return Error{rows.error()};
  if (rows->empty() || rows->Text(0, 6) != *host_key || rows->Int(0, 7) <= now) {
    return std::optional<Viewer>();
  }
  return GoodToken(*rows, now);
}

Outcome AccessTokens::CloseSession(std::string_view secret) {
  if (!LooksLikeSessionSecret(secret)) return Success();
  auto done =
      link_.Run("DELETE FROM web_sessions WHERE secret_hash = $1", {protocol::TokenDigest(secret)});
  if (!done) return Error{done.error()};
  return Success();
}

}  // namespace fleet::receiver
