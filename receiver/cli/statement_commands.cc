#include "receiver/cli/statement_commands.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "base/json_text.h"
#include "base/units.h"
#include "base/utc_time.h"
#include "receiver/cli/receiver_cli.h"
#include "receiver/report/closed_statement.h"
#include "receiver/report/receiver_key.h"
#include "receiver/report/report_format.h"
#include "receiver/store/closed_statements.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {
namespace {

int Fail(const std::string& message, int code = kExitRuntime) {
  std::cerr << "fleet-receiver: " << message << "\n";
  return code;
}

// RFC 4180: quoted when it holds a comma, a quote or a line break.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::string> KeyPath(const std::string& db, const std::string& key) {
  if (!key.empty()) return key;
  return DefaultReceiverKeyPath(db);
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Outcome WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Error{"cannot write " + path};
  return Success();
}

// A closed month, opened: its row, the signed document, and the records it used.
struct Closed {
  ClosedStatementRow row;
  nlohmann::json document;
  std::vector<StatementRecord> records;
};

Result<nlohmann::json> DocumentOf(const ClosedStatementRow& row) {
  const auto first = row.jws.find('.');
  const auto second = row.jws.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) {
    return Error{"closed statement " + row.month + ": stored signature is malformed"};
  }
  auto payload = Base64UrlDecode(std::string_view(row.jws).substr(first + 1, second - first - 1));
  if (!payload) return Error{"closed statement " + row.month + ": " + payload.error()};
  auto doc = ParseStrictJson(*payload, 64);
  if (!doc) return Error{"closed statement " + row.month + ": " + doc.error()};
  return *doc;
}

Result<std::optional<ClosedStatementRow>> FindClosed(const std::string& db,
                                                     const std::string& month) {
  // Opening the report source brings a SQLite database's schema up to date.
  auto source = OpenReportSource(db);
  if (!source) return Error{source.error()};
  auto link = OpenSqlLink(db);
  if (!link) return Error{link.error()};
  return ClosedStatements(**link).Find(month);
}

// The records a closed month used, read back from the store by the stored list.
Result<Closed> OpenClosed(const std::string& db, const Period& month) {
  auto source = OpenReportSource(db);
  if (!source) return Error{source.error()};
  auto link = OpenSqlLink(db);
  if (!link) return Error{link.error()};
  ClosedStatements closed(**link);
  auto row = closed.Find(month.label);
  if (!row) return Error{row.error()};
  if (!*row) return Error{"month " + month.label + " is not closed (statement close --month)"};
  auto doc = DocumentOf(**row);
  if (!doc) return Error{doc.error()};
  std::set<std::string> listed;
  std::istringstream lines((*row)->record_list);
  std::string line;
  while (std::getline(lines, line)) listed.insert(line.substr(0, line.find(' ')));
  auto registry = RegistryFromJson((*doc)["inputs"]["registry"]);
  if (!registry) return Error{registry.error()};
  std::vector<std::string> nodes;
  for (const auto& n : registry->nodes) nodes.push_back(n.node);
  auto all = closed.MonthRecords(nodes, month);
  if (!all) return Error{all.error()};
  Closed out{**row, *doc, {}};
  for (auto& r : *all) {
    if (listed.erase(r.hash) > 0) out.records.push_back(std::move(r));
  }
  if (!listed.empty()) {
    return Error{"closed statement " + month.label + ": " + std::to_string(listed.size()) +
                 " of its records are no longer in the database (first " + *listed.begin() + ")"};
  }
  return out;
}

StatementInputs InputsOf(const nlohmann::json& doc, Registry registry) {
  StatementInputs inputs;
  inputs.registry = std::move(registry);
  inputs.policy.late_minutes_count = doc["inputs"].value("late_minutes_count", true);
  inputs.live_within_s = doc["inputs"].value("live_within_s", kLiveWithinSeconds);
  return inputs;
}

std::optional<Period> PreviousMonth(const Period& month) { return MonthOf(month.begin - 1); }

}  // namespace

void PrintAdjustmentsTable(const nlohmann::json& adjustments) {
  if (adjustments.is_null()) return;
  std::cout << "\nAdjustments to " << adjustments["month"].get<std::string>()
            << " (closed; records that arrived after it was closed)\n";
  if (adjustments["lines"].empty()) std::cout << "  none\n";
  for (const auto& line : adjustments["lines"]) {
    char text[160];
    std::snprintf(text, sizeof text, "  %-16s %-20s %10.2f -> %10.2f  %+.2f\n",
                  line["operator"].get<std::string>().c_str(),
                  line["figure"].get<std::string>().c_str(), line["closed"].get<double>(),
                  line["now"].get<double>(), line["amount"].get<double>());
    std::cout << text;
  }
  char total[64];
  std::snprintf(total, sizeof total, "  total adjustment %+.2f\n",
                adjustments["total"].get<double>());
  std::cout << total;
}

std::string AdjustmentsCsv(const nlohmann::json& adjustments) {
  if (adjustments.is_null()) return "";
  const auto csv = [](const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  };
  const auto money = [](double amount) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", amount);
    return std::string(text);
  };
  const std::string month = adjustments["month"].get<std::string>();
  std::string out;
  for (const auto& line : adjustments["lines"]) {
    out += csv(line["operator"].get<std::string>()) + ",adjustment," +
           csv(month + " " + line["figure"].get<std::string>() + ": " +
               money(line["closed"].get<double>()) + " -> " + money(line["now"].get<double>())) +
           ",true," + money(line["amount"].get<double>()) + "\n";
  }
  out += ",adjustment_total," + csv(month + " (closed; records that arrived after it was closed)") +
         ",," + money(adjustments["total"].get<double>()) + "\n";
  return out;
}

int RunStatementClose(const StatementCloseArgs& args) {
  auto month = ParseMonth(args.report.month);
  if (!month) {
    return Fail("--month: '" + PrintableAscii(args.report.month, 40) + "' is not a month (YYYY-MM)",
                kExitUsage);
  }
  auto live = ParseDuration(args.report.live_within);
  if (!live) return Fail("--live-within: " + live.error(), kExitUsage);
  const std::int64_t now = args.now != 0 ? args.now : Now();
  if (now < month->end) return Fail("month " + month->label + " has not ended yet");
  auto key_path = KeyPath(args.report.db, args.key);
  if (!key_path) return Fail(key_path.error(), kExitUsage);
  auto source = OpenReportSource(args.report.db);
  if (!source) return Fail(source.error());
  auto link = OpenSqlLink(args.report.db);
  if (!link) return Fail(link.error());
  ClosedStatements closed(**link);
  auto existing = closed.Find(month->label);
  if (!existing) return Fail(existing.error());
  if (*existing) {
    return Fail("month " + month->label + " was closed already at " +
                FormatUtc((*existing)->closed_at) + " (statement export --month " + month->label +
                ")");
  }
  auto key = LoadReceiverKey(*key_path, true);
  if (!key) return Fail(key.error());
  auto registry = (*source)->LoadRegistry();
  if (!registry) return Fail(registry.error());
  StatementInputs inputs;
  inputs.registry = *registry;
  inputs.policy.late_minutes_count = args.report.late_minutes == "count";
  inputs.live_within_s = std::chrono::duration_cast<std::chrono::seconds>(*live).count();
  auto keys = closed.NodeKeys();
  if (!keys) return Fail(keys.error());
  inputs.node_keys = *keys;
  std::vector<std::string> nodes;
  for (const auto& n : registry->nodes) nodes.push_back(n.node);
  auto records = closed.MonthRecords(nodes, *month);
  if (!records) return Fail(records.error());
  nlohmann::json alerts;
  auto statement = StatementFromRecords(inputs, *month, *records, source->get(), alerts);
  if (!statement) return Fail(statement.error());
  const std::string list = RecordListText(*records);
  const nlohmann::json document =
      ClosedDocument(*statement, inputs, alerts, list, records->size(), now, key->kid);
  ClosedStatementRow row{month->label, now, key->kid,
                         SignClosedDocument(document, key->secret_key, key->kid), list};
  auto inserted = closed.Insert(row);
  if (!inserted) return Fail(inserted.error());
  if (!*inserted) return Fail("month " + month->label + " was closed meanwhile by another process");
  char total[32];
  std::snprintf(total, sizeof total, "%.2f", statement->total);
  std::cout << "closed " << month->label << ": " << statement->operators.size()
            << " operators, total " << total << ", " << records->size() << " records (digest "
            << document["records"]["digest"].get<std::string>() << "), signed by receiver key "
            << key->kid << (key->created ? " (new: " + key->path + ")" : "") << "\n";
  return 0;
}

std::string DueMonth(std::int64_t window_s, std::int64_t now) {
  // The month holding (now - window) has not finished its window; the one before has.
  return MonthOf(MonthOf(now - window_s).begin - 1).label;
}

int CloseDueMonth(const std::string& db, const std::string& key, std::int64_t window_s,
                  std::int64_t now) {
  const std::string month = DueMonth(window_s, now);
  auto row = FindClosed(db, month);
  if (!row) return Fail(row.error());
  if (*row) return 0;
  auto source = OpenReportSource(db);
  if (!source) return Fail(source.error());
  auto registry = (*source)->LoadRegistry();
  if (!registry) return Fail(registry.error());
  if (registry->operators.empty()) return 0;
  StatementCloseArgs args;
  args.report.db = db;
  args.report.month = month;
  args.key = key;
  args.now = now;
  const int code = RunStatementClose(args);
  // Closed meanwhile by another receiver: that one stands.
  if (code != 0) {
    auto again = FindClosed(db, month);
    if (again && *again) return 0;
  }
  return code;
}

std::optional<int> PrintClosedStatement(const ReportArgs& args) {
  auto month = ParseMonth(args.month);
  if (!month) return std::nullopt;
  auto row = FindClosed(args.db, month->label);
  if (!row) return Fail(row.error());
  if (!*row) return std::nullopt;
  auto opened = OpenClosed(args.db, *month);
  if (!opened) return Fail(opened.error());
  auto registry = RegistryFromJson(opened->document["inputs"]["registry"]);
  if (!registry) return Fail(registry.error());
  nlohmann::json alerts = opened->document["inputs"]["receiver_alerts"];
  auto statement = StatementFromRecords(InputsOf(opened->document, *registry), *month,
                                        opened->records, nullptr, alerts);
  if (!statement) return Fail(statement.error());
  if (StatementToJson(*statement) != opened->document["statement"]) {
    return Fail("closed statement " + month->label +
                ": its records no longer give the signed statement (statement verify)");
  }
  auto adjustments = AdjustmentsBefore(args);
  if (!adjustments) return Fail(adjustments.error());
  if (args.format == "json") {
    nlohmann::json out = opened->document["statement"];
    out["closed"] = {{"at", opened->document["closed_at"]},
                     {"receiver_kid", opened->row.receiver_kid},
                     {"records", opened->document["records"]}};
    if (!adjustments->is_null()) out["adjustments"] = *adjustments;
    std::cout << out.dump(2) << "\n";
  } else if (args.format == "csv") {
    std::cout << StatementToCsv(*statement) << AdjustmentsCsv(*adjustments);
  } else {
    std::cout << "Closed " << FormatUtc(opened->row.closed_at) << ", signed by receiver key "
              << opened->row.receiver_kid << "\n"
              << StatementToTable(*statement);
    PrintAdjustmentsTable(*adjustments);
  }
  return 0;
}

Result<nlohmann::json> AdjustmentsBefore(const ReportArgs& args) {
  auto month = ParseMonth(args.month);
  if (!month) return nlohmann::json();
  auto previous = PreviousMonth(*month);
  if (!previous) return nlohmann::json();
  auto row = FindClosed(args.db, previous->label);
  if (!row) return Error{row.error()};
  if (!*row) return nlohmann::json();
  auto doc = DocumentOf(**row);
  if (!doc) return Error{doc.error()};
  auto registry = RegistryFromJson((*doc)["inputs"]["registry"]);
  if (!registry) return Error{registry.error()};
  // The closed month again, on the registry and policy it was closed with, from every record
  // about it now stored: what differs came late.
  auto source = OpenReportSource(args.db);
  if (!source) return Error{source.error()};
  auto link = OpenSqlLink(args.db);
  if (!link) return Error{link.error()};
  std::vector<std::string> nodes;
  for (const auto& n : registry->nodes) nodes.push_back(n.node);
  auto records = ClosedStatements(**link).MonthRecords(nodes, *previous);
  if (!records) return Error{records.error()};
  nlohmann::json alerts;
  auto now =
      StatementFromRecords(InputsOf(*doc, *registry), *previous, *records, source->get(), alerts);
  if (!now) return Error{now.error()};
  nlohmann::json adjustments = StatementAdjustments((*doc)["statement"], StatementToJson(*now));
  std::set<std::string> listed;
  std::istringstream lines((*row)->record_list);
  std::string line;
  while (std::getline(lines, line)) listed.insert(line.substr(0, line.find(' ')));
  std::int64_t late = 0;
  for (const auto& r : *records) late += listed.contains(r.hash) ? 0 : 1;
  adjustments["month"] = previous->label;
  adjustments["late_records"] = late;
  return adjustments;
}

int RunStatementExport(const ReportArgs& args, const std::string& key, const std::string& out) {
  auto month = ParseMonth(args.month);
  if (!month) {
    return Fail("--month: '" + PrintableAscii(args.month, 40) + "' is not a month (YYYY-MM)",
                kExitUsage);
  }
  auto opened = OpenClosed(args.db, *month);
  if (!opened) return Fail(opened.error());
  auto key_path = KeyPath(args.db, key);
  if (!key_path) return Fail(key_path.error(), kExitUsage);
  auto receiver_key = LoadReceiverKey(*key_path, false);
  if (!receiver_key) return Fail(receiver_key.error());
  if (receiver_key->kid != opened->row.receiver_kid) {
    return Fail("the receiver key " + *key_path + " (" + receiver_key->kid +
                ") is not the one that signed " + month->label + " (" + opened->row.receiver_kid +
                ")");
  }
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error) return Fail(out + ": " + error.message());
  std::string ndjson;
  for (const auto& r : opened->records) ndjson += r.jws + "\n";
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"statement.json", opened->document.dump(2) + "\n"},
           {"statement.jws", opened->row.jws + "\n"},
           {"records.list", opened->row.record_list},
           {"records.ndjson", ndjson},
           {"receiver-key.jwk", PublicJwk(receiver_key->public_key) + "\n"}}) {
    if (auto done = WriteFile(out + "/" + name, text); !done) return Fail(done.error());
  }
  std::cout << "exported " << month->label << " to " << out << ": statement.json, statement.jws, "
            << opened->records.size() << " records (records.ndjson, records.list), "
            << "receiver-key.jwk\n";
  return 0;
}

int RunStatementVerify(const std::string& path, const std::string& key_jwk_file) {
  std::error_code error;
  const std::string dir = std::filesystem::is_directory(path, error)
                              ? path
                              : std::filesystem::path(path).parent_path().string();
  const std::string base = dir.empty() ? "." : dir;
  auto jws = ReadFile(std::filesystem::is_directory(path, error) ? base + "/statement.jws" : path);
  if (!jws) return Fail(jws.error());
  while (!jws->empty() && (jws->back() == '\n' || jws->back() == '\r')) jws->pop_back();
  auto jwk = ReadFile(key_jwk_file.empty() ? base + "/receiver-key.jwk" : key_jwk_file);
  if (!jwk) return Fail(jwk.error());
  auto key = ParsePublicJwk(*jwk);
  if (!key) return Fail("receiver key: " + key.error());
  auto list = ReadFile(base + "/records.list");
  if (!list) return Fail(list.error());
  auto ndjson = ReadFile(base + "/records.ndjson");
  if (!ndjson) return Fail(ndjson.error());
  VerifyReport report = VerifyClosedStatement(*jws, *key, *list, *ndjson);
  if (report.document.is_object()) {
    // statement.json, when present, must be the signed document.
    if (auto shown = ReadFile(base + "/statement.json")) {
      auto parsed = nlohmann::json::parse(*shown, nullptr, false);
      if (parsed != report.document) {
        report.problems.push_back(
            "statement.json: not the signed document (" +
            std::to_string(nlohmann::json::diff(report.document, parsed).size()) + " changes)");
        report.ok = false;
      }
    }
  }
  if (!report.ok) {
    for (const auto& problem : report.problems) std::cout << "MISMATCH " << problem << "\n";
    std::cout << "statement verify: FAILED (" << report.problems.size() << " problems)\n";
    return 1;
  }
  char total[32];
  std::snprintf(total, sizeof total, "%.2f", report.document["statement"].value("total", 0.0));
  std::cout << "statement verify: OK " << report.document["month"].get<std::string>() << ", "
            << report.document["records"]["count"] << " records, total " << total
            << ", signed by receiver key " << KeyId(*key) << "\n";
  return 0;
}

int RunStatementPayouts(const ReportArgs& args) {
  auto month = ParseMonth(args.month);
  if (!month) {
    return Fail("--month: '" + PrintableAscii(args.month, 40) + "' is not a month (YYYY-MM)",
                kExitUsage);
  }
  auto row = FindClosed(args.db, month->label);
  if (!row) return Fail(row.error());
  if (!*row) {
    return Fail("month " + month->label +
                " is not closed: payouts come from a closed statement only (statement close)");
  }
  auto doc = DocumentOf(**row);
  if (!doc) return Fail(doc.error());
  auto link = OpenSqlLink(args.db);
  if (!link) return Fail(link.error());
  auto wallets = ClosedStatements(**link).Wallets();
  if (!wallets) return Fail(wallets.error());
  const bool csv = args.format == "csv";
  if (csv) std::cout << "operator,name,wallet,chain,token,amount\n";
  int missing = 0;
  for (const auto& op : (*doc)["statement"]["operators"]) {
    const std::string id = op.value("operator", std::string());
    const double amount = op.value("total", 0.0);
    auto wallet = wallets->find(id);
    const bool has = wallet != wallets->end();
    if (!has && amount > 0) ++missing;
    char value[32];
    std::snprintf(value, sizeof value, "%.2f", amount);
    const std::string name = op.value("name", std::string());
    if (csv) {
      std::cout << CsvField(id) << "," << CsvField(name) << ","
                << (has ? wallet->second.address : "") << "," << (has ? wallet->second.chain : "")
                << "," << (has ? wallet->second.token : "") << "," << value << "\n";
    } else {
      std::cout << id << "\t" << name << "\t"
                << (has ? wallet->second.address + "\t" + wallet->second.chain + "\t" +
                              wallet->second.token
                        : std::string("(no wallet)\t-\t-"))
                << "\t" << value << "\n";
    }
  }
  if (missing > 0) {
    std::cerr << "fleet-receiver: " << missing
              << " operators with a payout have no wallet in the registry\n";
  }
  return 0;
}

int RunKeyShow(const std::string& db, const std::string& key) {
  auto path = KeyPath(db, key);
  if (!path) return Fail(path.error(), kExitUsage);
  auto receiver_key = LoadReceiverKey(*path, true);
  if (!receiver_key) return Fail(receiver_key.error());
  std::cout << PublicJwk(receiver_key->public_key) << "\n";
  if (receiver_key->created) std::cerr << "fleet-receiver: made a new key in " << *path << "\n";
  return 0;
}

}  // namespace fleet::receiver
