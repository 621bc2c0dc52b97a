#include "agent/cli/record_commands.h"

#include <fstream>
#include <iostream>

#include "agent/cli/history_commands.h"
#include "agent/daemon/state_dir.h"
#include "agent/history/history_store.h"
#include "agent/records/node_key.h"
#include "protocol/record_chain.h"

namespace fleet {
namespace {

constexpr int kBad = 1;
constexpr int kUsageError = 3;
constexpr std::size_t kMaxRecordLine = 1 << 20;

std::string PublicKeyText(const NodeKey& key) {
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(key.public_key.data()),
                                          key.public_key.size()));
}

void PrintKey(const NodeKey& key, bool jwk) {
  if (jwk) {
    std::cout << PublicJwk(key.public_key) << "\n";
  } else {
    std::cout << "kid " << key.kid << "\npublic key (Ed25519, base64url) " << PublicKeyText(key)
              << "\n";
  }
}

}  // namespace

int RunKeygenCommand(const KeyArgs& args) {
  std::string node;
  auto dir = ResolveStateDir(args.config_file, args.state_dir, &node);
  if (!dir) return kUsageError;
  if (auto prepared = PrepareStateDir(*dir); !prepared) {
    std::cerr << "fleet-agent: " << prepared.error() << "\n";
    return kBad;
  }
  auto key = CreateNodeKey(*dir, args.force);
  if (!key) {
    std::cerr << "fleet-agent: " << key.error() << "\n";
    return kBad;
  }
  std::cout << "created " << NodeKeyPath(*dir) << " for node " << node << "\n";
  PrintKey(*key, args.jwk);
  std::cout << "show it again with: fleet-agent pubkey --jwk\n";
  return 0;
}

int RunPubkeyCommand(const KeyArgs& args) {
  auto dir = ResolveStateDir(args.config_file, args.state_dir, nullptr);
  if (!dir) return kUsageError;
  auto key = LoadNodeKey(*dir);
  if (!key) {
    std::cerr << "fleet-agent: " << key.error() << "\n";
    return kBad;
  }
  if (!key->has_value()) {
    std::cerr << "fleet-agent: no node key in " << *dir << " (create one: fleet-agent keygen)\n";
    return kBad;
  }
  PrintKey(**key, args.jwk);
  return 0;
}

int RunRecordsCommand(const KeyArgs& args) {
  std::string node;
  auto dir = ResolveStateDir(args.config_file, args.state_dir, &node);
  if (!dir) return kUsageError;
  auto store = HistoryStore::Open(*dir, true, node, FLEET_VERSION);
  if (!store) {
    std::cerr << "fleet-agent: " << store.error() << "\n";
    return kBad;
  }
  auto records = (*store)->SignedRecords();
  if (!records) {
    std::cerr << "fleet-agent: " << records.error() << "\n";
    return kBad;
  }
  for (const auto& jws : *records) std::cout << jws << "\n";
  return 0;
}

int RunVerifyCommand(const std::string& records_file, const std::string& jwk_file) {
  std::ifstream jwk_in(jwk_file);
  if (!jwk_in) {
    std::cerr << "fleet-agent: cannot read " << jwk_file << "\n";
    return kUsageError;
  }
  std::string jwk_text((std::istreambuf_iterator<char>(jwk_in)), std::istreambuf_iterator<char>());
  auto key = ParsePublicJwk(jwk_text);
  if (!key) {
    std::cerr << "fleet-agent: " << jwk_file << ": " << key.error() << "\n";
    return kUsageError;
  }
  std::ifstream in(records_file);
  if (!in) {
    std::cerr << "fleet-agent: cannot read " << records_file << "\n";
    return kUsageError;
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > kMaxRecordLine) {
      std::cerr << records_file << ":" << lines.size() + 1 << ": longer than 1 MiB\n";
      return kBad;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  ChainVerdict verdict = VerifyRecordChain(lines, *key);
  if (!verdict.ok()) {
    std::cerr << records_file << ":" << verdict.bad_line << ": " << verdict.reason << " ("
              << verdict.records << " good record(s) before it)\n";
    return kBad;
  }
  std::cout << records_file << ": " << verdict.records
            << " records verified: signatures, seq continuity and prev chain intact\n";
  return 0;
}

}  // namespace fleet
