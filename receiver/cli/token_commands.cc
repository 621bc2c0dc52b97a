#include "receiver/cli/token_commands.h"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/json_text.h"
#include "base/units.h"
#include "base/utc_time.h"
#include "receiver/access/access_tokens.h"
#include "receiver/cli/receiver_cli.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {
namespace {

constexpr std::int64_t kMaxTtlSeconds = 3650LL * 24 * 3600;

int Fail(const std::string& message, int code = kExitRuntime) {
  std::cerr << "fleet-receiver: " << message << "\n";
  return code;
}

std::string Owner(const std::optional<std::string>& operator_id) {
  return operator_id ? "operator " + *operator_id : std::string("the admin");
}

std::string StateName(const AccessTokenInfo& t, std::int64_t now) {
  if (t.revoked_at) return "revoked";
  if (t.expires_at && *t.expires_at <= now) return "expired";
  return "active";
}

std::string State(const AccessTokenInfo& t, std::int64_t now) {
  const std::string name = StateName(t, now);
  if (name == "revoked") return name + " " + FormatUtc(*t.revoked_at);
  if (name == "expired") return name + " " + FormatUtc(*t.expires_at);
  return name;
}

nlohmann::json TimeOrNull(const std::optional<std::int64_t>& t) {
  return t ? nlohmann::json(FormatUtc(*t)) : nlohmann::json(nullptr);
}

}  // namespace

int RunTokensAdd(const TokenAddArgs& args) {
  if (args.admin == !args.operator_id.empty()) {
    return Fail("tokens add: give --operator OP or --admin (one of them)", kExitUsage);
  }
  std::optional<std::int64_t> ttl_s;
  if (args.ttl != "never") {
    auto ttl = ParseDuration(args.ttl);
    if (!ttl || ttl->count() < 60'000 || *ttl > std::chrono::seconds(kMaxTtlSeconds)) {
      return Fail("--ttl: a duration from 1m to 3650d, like 90d, or never", kExitUsage);
    }
    ttl_s = std::chrono::duration_cast<std::chrono::seconds>(*ttl).count();
  }
  if (args.label.size() > kMaxTokenLabel) {
    return Fail("--label: at most " + std::to_string(kMaxTokenLabel) + " bytes", kExitUsage);
  }
  auto link = OpenSqlLink(args.db, true);
  if (!link) return Fail(link.error());
  std::optional<std::string> operator_id;
  if (!args.admin) operator_id = args.operator_id;
  const std::int64_t now = std::time(nullptr);
  auto issued = AccessTokens(**link).Add(operator_id, args.label, ttl_s, now);
  if (!issued) return Fail(issued.error());
  std::cout << issued->token << "\n" << std::flush;
  std::cerr << "token " << issued->id << " for " << Owner(operator_id) << " ("
            << (issued->expires_at ? "expires " + FormatUtc(*issued->expires_at)
                                   : std::string("never expires"))
            << "): shown once, keep it\n";
  return 0;
}

int RunTokensList(const std::string& db, bool json) {
  auto link = OpenSqlLink(db);
  if (!link) return Fail(link.error());
  auto tokens = AccessTokens(**link).List();
  if (!tokens) return Fail(tokens.error());
  const std::int64_t now = std::time(nullptr);
  if (json) {
    auto out = nlohmann::json::array();
    for (const auto& t : *tokens) {
      out.push_back({{"id", t.id},
                     {"operator", t.operator_id ? nlohmann::json(*t.operator_id) : nullptr},
                     {"admin", !t.operator_id.has_value()},
                     {"label", t.label},
                     {"created_at", FormatUtc(t.created_at)},
                     {"expires_at", TimeOrNull(t.expires_at)},
                     {"revoked_at", TimeOrNull(t.revoked_at)},
                     {"last_used_at", TimeOrNull(t.last_used_at)},
                     {"state", StateName(t, now)}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << std::left << std::setw(13) << "ID" << std::setw(20) << "FOR" << std::setw(22)
            << "CREATED" << std::setw(22) << "EXPIRES" << std::setw(22) << "LAST USED"
            << std::setw(32) << "STATE"
            << "LABEL\n";
  for (const auto& t : *tokens) {
    std::cout << std::setw(13) << t.id << std::setw(20)
              << (t.operator_id ? *t.operator_id : std::string("(admin)")) << std::setw(22)
              << FormatUtc(t.created_at) << std::setw(22)
              << (t.expires_at ? FormatUtc(*t.expires_at) : std::string("never")) << std::setw(22)
              << (t.last_used_at ? FormatUtc(*t.last_used_at) : std::string("never"))
              << std::setw(32) << State(t, now) << PrintableAscii(t.label, 80) << "\n";
  }
  return 0;
}

int RunTokensRevoke(const std::string& db, const std::string& id) {
  auto link = OpenSqlLink(db);
  if (!link) return Fail(link.error());
  AccessTokens tokens(**link);
  auto list = tokens.List();
  if (!list) return Fail(list.error());
  for (const auto& t : *list) {
    if (t.id == id && t.revoked_at) {
      std::cout << "token " << t.id << " was revoked already at " << FormatUtc(*t.revoked_at)
                << "; unchanged\n";
      return 0;
    }
  }
  auto revoked = tokens.Revoke(id, std::time(nullptr));
  if (!revoked) return Fail(revoked.error());
  if (!*revoked) return Fail("no token " + PrintableAscii(id, 40) + " (tokens list)");
  std::cout << "revoked token " << id << ": it and its login sessions are refused from now\n";
  return 0;
}

}  // namespace fleet::receiver
