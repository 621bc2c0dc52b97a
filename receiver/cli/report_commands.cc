#include "receiver/cli/report_commands.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "base/json_text.h"
#include "base/units.h"
#include "base/utc_time.h"
#include "protocol/jws.h"
#include "receiver/alerts/operator_channels.h"
#include "receiver/cli/receiver_cli.h"
#include "receiver/cli/statement_commands.h"
#include "receiver/registry/revocations.h"
#include "receiver/registry/wallet.h"
#include "receiver/report/report_format.h"
#include "receiver/report/statement.h"
#include "receiver/store/closed_statements.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/open_store.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {
namespace {

int Fail(const std::string& message, int code = kExitRuntime) {
  std::cerr << "fleet-receiver: " << message << "\n";
  return code;
}

bool IsId(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

// "2026-11-25" -> unix seconds at 00:00 UTC.
Result<std::int64_t> ParseDate(const std::string& text, const std::string& what) {
  int year = 0;
  unsigned month = 0, day = 0;
  char tail = 0;
  if (text.size() != 10 ||
      std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &year, &month, &day, &tail) != 3 || year < 1970 ||
      year > 2200 || month < 1 || month > 12 || day < 1 || day > 31) {
    return Error{what + ": '" + PrintableAscii(text, 40) + "' is not a date (YYYY-MM-DD)"};
  }
  if (!std::chrono::year_month_day{std::chrono::year{year}, std::chrono::month{month},
                                   std::chrono::day{day}}
           .ok()) {
    return Error{what + ": " + text + " is not a day of that month"};
  }
  return DaysFromCivil(year, month, day) * 86400;
}

std::string Date(std::int64_t t) { return FormatUtc(t).substr(0, 10); }

std::string Scalar(const YAML::Node& node, const std::string& key) {
  const YAML::Node value = node[key];
  return value && value.IsScalar() ? value.Scalar() : std::string();
}

}  // namespace

int RunOperatorsAdd(const OperatorAddArgs& args) {
  if (!IsId(args.id))
    return Fail("--id: '" + PrintableAscii(args.id, 80) + "' is not an operator id", kExitUsage);
  auto since = ParseDate(args.since, "--since");
  if (!since) return Fail(since.error(), kExitUsage);
  auto source = OpenReportSource(args.db);
  if (!source) return Fail(source.error());
  if (auto done = (*source)->AddOperator({args.id, args.name, *since}); !done) {
    return Fail(done.error());
  }
  std::cout << "operator " << args.id << " (" << args.name << "), active since " << args.since
            << "\n";
  return 0;
}

int RunOperatorsList(const std::string& db, bool json) {
  auto source = OpenReportSource(db);
  if (!source) return Fail(source.error());
  auto registry = (*source)->LoadRegistry();
  if (!registry) return Fail(registry.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& op : registry->operators) {
    std::int64_t nodes = 0;
    for (const auto& n : registry->nodes) nodes += n.operator_id == op.id ? 1 : 0;
    nlohmann::json referred = nlohmann::json::array();
    for (const auto& r : registry->referrals) {
      if (r.partner == op.id) referred.push_back(r.referred);
    }
    out.push_back({{"id", op.id},
                   {"name", op.name},
                   {"since", Date(op.since)},
                   {"nodes", nodes},
                   {"referred", referred},
                   {"channels", {{"telegram", nullptr}, {"discord", nullptr}}},
                   {"revoked", nullptr},
                   {"wallet", nullptr}});
  }
  // Where each operator's alerts go (operators channels); a webhook URL is never shown.
  if (auto link = OpenSqlLink(db)) {
    auto rows = OperatorChannels(**link).All();
    if (!rows) return Fail(rows.error());
    for (const auto& row : *rows) {
      for (auto& op : out) {
        if (op["id"] != row.operator_id) continue;
        if (row.telegram_chat) {
          op["channels"]["telegram"] = {{"chat_id", *row.telegram_chat}, {"ackers", row.ackers}};
        }
        if (row.discord_webhook) op["channels"]["discord"] = "set";
      }
    }
    if (auto wallets = ClosedStatements(**link).Wallets()) {
      for (auto& op : out) {
        auto w = wallets->find(op["id"].get<std::string>());
        if (w == wallets->end()) continue;
        op["wallet"] = {
            {"address", w->second.address}, {"chain", w->second.chain}, {"token", w->second.token}};
      }
    } else {
      return Fail(wallets.error());
    }
    // Operators that left (operators revoke).
    auto revoked = Revocations(**link).All();
    if (!revoked) return Fail(revoked.error());
    for (const auto& r : *revoked) {
      for (auto& op : out) {
        if (op["id"] == r.operator_id) {
          op["revoked"] = {{"at", FormatUtc(r.revoked_at)}, {"reason", r.reason}};
        }
      }
    }
  } else {
    return Fail(link.error());
  }
  if (json) {
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& op : out) {
      std::cout << op["id"].get<std::string>() << "\t" << op["name"].get<std::string>()
                << "\tsince " << op["since"].get<std::string>() << "\t" << op["nodes"] << " nodes"
                << (op["referred"].empty() ? "" : "\treferred " + op["referred"].dump());
      const auto& channels = op["channels"];
      if (!channels["telegram"].is_null()) {
        std::cout << "\ttelegram: " << channels["telegram"]["chat_id"].get<std::string>()
                  << " ackers " << channels["telegram"]["ackers"].dump();
      }
      if (!channels["discord"].is_null()) std::cout << "\tdiscord: set";
      if (!op["wallet"].is_null()) {
        std::cout << "\twallet: " << op["wallet"]["address"].get<std::string>() << " ("
                  << op["wallet"]["chain"].get<std::string>() << ", "
                  << op["wallet"]["token"].get<std::string>() << ")";
      }
      if (!op["revoked"].is_null()) {
        std::cout << "\trevoked " << op["revoked"]["at"].get<std::string>() << " ("
                  << op["revoked"]["reason"].get<std::string>() << ")";
      }
      std::cout << "\n";
    }
  }
  return 0;
}

int RunReferralsAdd(const ReferralAddArgs& args) {
  if (!IsId(args.partner) || !IsId(args.referred))
    return Fail("--partner and --referred take operator ids", kExitUsage);
  if (args.partner == args.referred) return Fail("an operator cannot refer itself", kExitUsage);
  auto date = ParseDate(args.date, "--date");
  if (!date) return Fail(date.error(), kExitUsage);
  auto source = OpenReportSource(args.db);
  if (!source) return Fail(source.error());
  if (auto done = (*source)->AddReferral({args.partner, args.referred, *date}); !done) {
    return Fail(done.error());
  }
  std::cout << "referral: " << args.partner << " referred " << args.referred << " on " << args.date
            << "\n";
  return 0;
}

int RunRegistryImport(const std::string& db, const std::string& yaml_file) {
  std::ifstream in(yaml_file);
  if (!in) return Fail("cannot read " + yaml_file);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > (4u << 20)) return Fail(yaml_file + ": larger than 4 MiB");
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const std::exception& e) {
    return Fail(yaml_file + ": " + PrintableAscii(e.what(), 200), kExitUsage);
  }
  if (!root.IsMap())
    return Fail(yaml_file + ": expected a map with operators and referrals", kExitUsage);
  for (const auto& entry : root) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    if (key != "operators" && key != "referrals") {
      return Fail(yaml_file + ": unknown key '" + PrintableAscii(key, 40) +
                      "' (known: operators, referrals)",
                  kExitUsage);
    }
  }
  // Check everything first; write only a registry that is whole.
  std::vector<OperatorEntry> operators;
  std::vector<NodeEntry> nodes;
  std::vector<std::pair<std::string, std::int64_t>> revocations;
  std::vector<Referral> referrals;
  std::vector<std::pair<std::string, Wallet>> wallets;
  const YAML::Node ops = root["operators"];
  if (ops && !ops.IsSequence()) return Fail(yaml_file + ": operators must be a list", kExitUsage);
  for (std::size_t i = 0; ops && i < ops.size(); ++i) {
    const YAML::Node op = ops[i];
    const std::string where = yaml_file + ": operators[" + std::to_string(i) + "]";
    if (!op.IsMap()) return Fail(where + " must be a map", kExitUsage);
    OperatorEntry entry{Scalar(op, "id"), Scalar(op, "name"), 0};
    if (!IsId(entry.id)) return Fail(where + ".id: not an operator id", kExitUsage);
    auto since = ParseDate(Scalar(op, "since"), where + ".since");
    if (!since) return Fail(since.error(), kExitUsage);
    entry.since = *since;
    operators.push_back(entry);
    // Where the operator's payouts go (registry/wallet.h).
    if (const YAML::Node wallet = op["wallet"]) {
      if (!wallet.IsMap()) return Fail(where + ".wallet must be a map", kExitUsage);
      Wallet w{Scalar(wallet, "address"), Scalar(wallet, "chain"), Scalar(wallet, "token")};
      if (auto checked = CheckWallet(w); !checked) {
        return Fail(where + "." + checked.error(), kExitUsage);
      }
      wallets.emplace_back(entry.id, w);
    }
    const YAML::Node list = op["nodes"];
    if (list && !list.IsSequence()) return Fail(where + ".nodes must be a list", kExitUsage);
    for (std::size_t j = 0; list && j < list.size(); ++j) {
      const YAML::Node node = list[j];
      const std::string at = where + ".nodes[" + std::to_string(j) + "]";
      if (!node.IsMap()) return Fail(at + " must be a map", kExitUsage);
      NodeEntry n;
      n.node = Scalar(node, "id");
      n.operator_id = entry.id;
      if (!IsId(n.node)) return Fail(at + ".id: not a node id", kExitUsage);
      std::string jwk = Scalar(node, "jwk");
      if (jwk.empty() && !Scalar(node, "jwk_file").empty()) {
        std::ifstream key_in(Scalar(node, "jwk_file"));
        if (!key_in) return Fail(at + ".jwk_file: cannot read " + Scalar(node, "jwk_file"));
        jwk.assign(std::istreambuf_iterator<char>(key_in), std::istreambuf_iterator<char>());
      }
      auto key = ParsePublicJwk(jwk);
      if (!key) return Fail(at + ": jwk: " + key.error(), kExitUsage);
      n.key = *key;
      n.kid = KeyId(*key);
      auto added = ParseDate(Scalar(node, "added"), at + ".added");
      if (!added) return Fail(added.error(), kExitUsage);
      n.added_at = *added;
      if (!Scalar(node, "revoked").empty()) {
        auto revoked = ParseDate(Scalar(node, "revoked"), at + ".revoked");
        if (!revoked) return Fail(revoked.error(), kExitUsage);
        revocations.emplace_back(n.node, *revoked);
      }
      nodes.push_back(n);
    }
  }
  const YAML::Node refs = root["referrals"];
  if (refs && !refs.IsSequence()) return Fail(yaml_file + ": referrals must be a list", kExitUsage);
  for (std::size_t i = 0; refs && i < refs.size(); ++i) {
    const std::string where = yaml_file + ": referrals[" + std::to_string(i) + "]";
    if (!refs[i].IsMap()) return Fail(where + " must be a map", kExitUsage);
    Referral r{Scalar(refs[i], "partner"), Scalar(refs[i], "referred"), 0};
    if (!IsId(r.partner) || !IsId(r.referred) || r.partner == r.referred) {
      return Fail(where + ": partner and referred must be two operator ids", kExitUsage);
    }
    auto date = ParseDate(Scalar(refs[i], "date"), where + ".date");
    if (!date) return Fail(date.error(), kExitUsage);
    r.date = *date;
    referrals.push_back(r);
  }

  auto store = OpenRecordStore(db, true);
  if (!store) return Fail(store.error());
  auto known = (*store)->ListNodes();
  if (!known) return Fail(known.error());
  auto source = OpenReportSource(db);
  if (!source) return Fail(source.error());
  int added = 0, kept = 0;
  for (const auto& op : operators) {
    if (auto done = (*source)->AddOperator(op); !done) return Fail(done.error());
  }
  for (const auto& n : nodes) {
    auto same = std::find_if(known->begin(), known->end(),
                             [&](const NodeEntry& k) { return k.node == n.node; });
    if (same != known->end()) {
      if (same->kid != n.kid || same->operator_id != n.operator_id) {
        return Fail("node " + n.node + " is registered already with another key or operator");
      }
      ++kept;
      continue;
    }
    if (auto done = (*store)->AddNode(n); !done) return Fail(done.error());
    ++added;
  }
  for (const auto& [node, when] : revocations) {
    if (auto done = (*store)->RevokeNode(node, when, "revoked in " + yaml_file); !done)
      return Fail(done.error());
  }
  for (const auto& r : referrals) {
    if (auto done = (*source)->AddReferral(r); !done) return Fail(done.error());
  }
  if (!wallets.empty()) {
    auto link = OpenSqlLink(db);
    if (!link) return Fail(link.error());
    for (const auto& [id, w] : wallets) {
      if (auto done = ClosedStatements(**link).SetWallet(id, w); !done) return Fail(done.error());
    }
  }
  std::cout << "imported " << operators.size() << " operators, " << added << " new nodes (" << kept
            << " already registered), " << revocations.size() << " revocations, "
            << referrals.size() << " referrals\n";
  return 0;
}

namespace {

struct Loaded {
  std::unique_ptr<RegistrySource> source;
  Registry registry;
  Period month;
  std::int64_t live_within = kLiveWithinSeconds;
};

Result<Loaded> Load(const ReportArgs& args) {
  auto month = ParseMonth(args.month);
  if (!month)
    return Error{"--month: '" + PrintableAscii(args.month, 40) + "' is not a month (YYYY-MM)"};
  auto live = ParseDuration(args.live_within);
  if (!live) return Error{"--live-within: " + live.error()};
  auto source = OpenReportSource(args.db);
  if (!source) return Error{source.error()};
  auto registry = (*source)->LoadRegistry();
  if (!registry) return Error{registry.error()};
  return Loaded{std::move(source).value(), std::move(registry).value(), *month,
                std::chrono::duration_cast<std::chrono::seconds>(*live).count()};
}

}  // namespace

namespace {

// The month's uptime for both reports; exit code in `code` when it fails.
std::optional<std::pair<MonthUptime, Registry>> ComputeMonth(const ReportArgs& args, int& code) {
  if (!ParseMonth(args.month)) {
    code = Fail("--month: '" + PrintableAscii(args.month, 40) + "' is not a month (YYYY-MM)",
                kExitUsage);
    return std::nullopt;
  }
  auto loaded = Load(args);
  if (!loaded) {
    code = Fail(loaded.error());
    return std::nullopt;
  }
  auto uptime =
      ComputeUptime(*loaded->source, loaded->registry, loaded->month, loaded->live_within);
  if (!uptime) {
    code = Fail(uptime.error());
    return std::nullopt;
  }
  return std::pair(std::move(uptime).value(), std::move(loaded->registry));
}

}  // namespace

int RunUptimeReport(const ReportArgs& args) {
  int code = 0;
  auto month = ComputeMonth(args, code);
  if (!month) return code;
  const MonthUptime& uptime = month->first;
  const bool late = args.late_minutes == "count";
  if (args.format == "json") {
    std::cout << UptimeToJson(uptime, late).dump(2) << "\n";
  } else if (args.format == "csv") {
    std::cout << UptimeToCsv(uptime, late);
  } else {
    std::cout << UptimeToTable(uptime, late);
  }
  return 0;
}

int RunStatement(const ReportArgs& args) {
  // A closed month prints its stored statement (statement_commands.h).
  if (auto closed = PrintClosedStatement(args)) return *closed;
  int code = 0;
  auto month = ComputeMonth(args, code);
  if (!month) return code;
  PayoutPolicy policy;
  policy.late_minutes_count = args.late_minutes == "count";
  MonthStatement statement = ComputeStatement(month->first, month->second, policy);
  // Records that came after the month before was closed: its adjustments.
  auto adjustments = AdjustmentsBefore(args);
  if (!adjustments) return Fail(adjustments.error());
  if (args.format == "json") {
    nlohmann::json out = StatementToJson(statement);
    if (!adjustments->is_null()) out["adjustments"] = *adjustments;
    std::cout << out.dump(2) << "\n";
  } else if (args.format == "csv") {
    std::cout << StatementToCsv(statement) << AdjustmentsCsv(*adjustments);
  } else {
    std::cout << StatementToTable(statement);
    PrintAdjustmentsTable(*adjustments);
  }
  return 0;
}

}  // namespace fleet::receiver
