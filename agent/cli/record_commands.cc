#include "agent/cli/record_commands.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iostream>

#include "agent/cli/history_commands.h"
#include "agent/config/config.h"
#include "agent/config/hermes_target.h"
#include "agent/daemon/node_clock.h"
#include "agent/daemon/state_dir.h"
#include "agent/history/history_store.h"
#include "agent/push/enroll_client.h"
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

int Fail(const std::string& message) {
  std::cerr << "fleet-agent: " << message << "\n";
  return kBad;
}

// The key the history names current (meta node_kid), which is node.key unless a rotation
// stopped part way; node.key alone when there is no history yet.
Result<std::optional<NodeKey>> LoadCurrentNodeKey(const std::string& dir) {
  auto key = LoadNodeKey(dir);
  if (!key || !key->has_value()) return key;
  if (::access((dir + "/history.db").c_str(), F_OK) != 0) return key;
  auto store = HistoryStore::Open(dir, true, "", FLEET_VERSION);
  if (!store) return Error{store.error()};
  auto kid = (*store)->CurrentKid();
  if (!kid) return Error{kid.error()};
  if (!*kid || **kid == (*key)->kid) return key;
  auto found = FindNodeKey(dir, **kid);
  if (!found) return Error{found.error()};
  return std::optional<NodeKey>(*found);
}

}  // namespace

int RunRotateKeyCommand(const KeyArgs& args) {
  std::string node;
  auto dir = ResolveStateDir(args.config_file, args.state_dir, &node);
  if (!dir) return kUsageError;
  // One rotation at a time (the lock goes with the process, however it ends).
  const std::string lock_path = *dir + "/node.key.lock";
  const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) return Fail(lock_path + ": " + std::strerror(errno));
  if (::flock(lock, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock);
    return Fail("another fleet-agent rotate-key is running (" + lock_path + ")");
  }
  auto loaded = LoadNodeKey(*dir);
  if (!loaded) return Fail(loaded.error());
  if (!loaded->has_value()) {
    return Fail("no node key in " + *dir + " (create one: fleet-agent keygen)");
  }
  if (::access((*dir + "/history.db").c_str(), F_OK) != 0) {
    return Fail("no history in " + *dir +
                " yet: rotate once the agent has run (before that, keygen --force makes "
                "another key to register)");
  }
  const NodeKey& file_key = **loaded;
  auto store = HistoryStore::Open(*dir, false, node, FLEET_VERSION, file_key);
  if (!store) return Fail(store.error());
  auto current = (*store)->CurrentKid();
  if (!current) return Fail(current.error());
  if (*current && **current != file_key.kid) {
    // A rotation stopped after its record: finish it first.
    if (auto done = PromoteNextNodeKey(*dir, file_key.kid, **current); !done) {
      return Fail("finishing the rotation to kid " + **current + ": " + done.error());
    }
    std::cout << "finished the rotation to kid " << **current << " that stopped part way\n";
  }
  auto next = CreateNextNodeKey(*dir);
  if (!next) return Fail(next.error());
  RotationCrashPoint("next-written");
  auto rotated = (*store)->AddKeyRotate(*next, NodeClock().Stamp());
  if (!rotated) return Fail(rotated.error());
  RotationCrashPoint("record-committed");
  if (auto done = PromoteNextNodeKey(*dir, rotated->old_kid, rotated->new_kid); !done) {
    return Fail("the key_rotate record is made, but " + done.error() +
                " (the new key signs from node.key.next; run rotate-key again to finish)");
  }
  RotationCrashPoint("promoted");
  std::cout << "rotated the node key of " << node << ": kid " << rotated->old_kid << " -> "
            << rotated->new_kid << "\n"
            << "key_rotate record: epoch " << rotated->epoch << " seq " << rotated->seq << " at "
            << FormatUtc(rotated->t) << ", signed by the old key, with the new key's proof\n"
            << "the receiver takes the new key with that record; the records already in the "
               "spool keep the old key's signature and still count\n";
  return 0;
}

int RunEnrollCommand(const EnrollArgs& args) {
  AgentConfig config = DefaultConfig();
  if (!args.config_file.empty()) {
    ConfigLoad load = LoadConfigFile(args.config_file);
    if (!load.config) {
      for (const auto& e : load.errors) std::cerr << e.ToString() << "\n";
      return kUsageError;
    }
    config = *load.config;
  }
  const std::string dir = args.state_dir.empty() ? config.state_dir : args.state_dir;
  const std::string node = ResolveNodeId(config);
  if (!args.node.empty() && args.node != node) {
    std::cerr << "fleet-agent: --node " << args.node << ": this node's records name it " << node
              << " (node.id in the configuration, else the host name); set node.id: " << args.node
              << " there first\n";
    return kUsageError;
  }
  if (args.token.empty()) {
    std::cerr << "fleet-agent: --token: the one-time token from the foundation\n";
    return kUsageError;
  }
  if (auto prepared = PrepareStateDir(dir); !prepared) return Fail(prepared.error());
  auto key = LoadCurrentNodeKey(dir);
  if (!key) return Fail(key.error());
  if (!key->has_value()) {
    auto created = CreateNodeKey(dir, false);
    if (!created) return Fail(created.error());
    std::cout << "created the node key " << NodeKeyPath(dir) << " (kid " << created->kid << ")\n";
    *key = *created;
  }
  UpstreamSettings upstream = config.upstream;
  upstream.url = args.url;
  auto enrolled = EnrolNode(upstream, **key, node, args.token);
  if (!enrolled) return Fail("enrolment: " + enrolled.error());
  if (auto saved = SaveEnrolledUpstream(dir, args.url, *enrolled); !saved) {
    return Fail("enrolled, but " + saved.error());
  }
  std::cout << "enrolled node " << enrolled->node << " for operator " << enrolled->operator_id
            << " (kid " << enrolled->kid << ") at " << args.url << "\n";
  if (config.upstream.url.empty()) {
    std::cout << "kept in " << dir
              << "/upstream.json: the daemon pushes there from its next "
                 "start or reload (systemctl reload fleet-agent)\n";
  } else if (config.upstream.url != args.url) {
    std::cout << "note: the configuration's upstream.url " << config.upstream.url
              << " still wins; remove it to push to " << args.url << "\n";
  }
  return 0;
}

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
  auto key = LoadCurrentNodeKey(*dir);
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
