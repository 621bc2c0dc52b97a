// The node-identity and record commands: `keygen [--force]` creates the node's Ed25519
// key in the state directory, `pubkey [--jwk]` prints the current key's kid and public key,
// `rotate-key` moves the node to a new key (below), `records`
// prints the signed records (one JWS per line, oldest first), `verify FILE --jwk KEYFILE`
// checks a file of records (signatures, seq continuity, the prev chain) and names the
// first bad line. Exit codes: 0 good, 1 a bad record or an unusable state, 3 usage.
// rotate-key, one at a time (a lock file in the state directory), with the daemon running
// or not: (1) a new key in node.key.next, synced; (2) in one history transaction, the
// key_rotate record signed by the old key with the new key's proof, and the history naming
// the new kid (HistoryStore::AddKeyRotate: the daemon signs its next record with it);
// (3) node.key kept as node.key.<old kid> until the record is acknowledged, node.key.next
// renamed node.key. Killed at any point, the node still signs with a key the receiver
// takes: before (2) the old key (a stale node.key.next is replaced by the next rotation),
// after it the new one, found by kid in node.key.next or node.key; the next rotate-key or
// daemon start finishes (3).
#pragma once

#include <string>

namespace fleet {

struct KeyArgs {
  std::string config_file;
  std::string state_dir;
  bool force = false;
  bool jwk = false;
};

int RunKeygenCommand(const KeyArgs& args);
int RunPubkeyCommand(const KeyArgs& args);
int RunRecordsCommand(const KeyArgs& args);
int RunRotateKeyCommand(const KeyArgs& args);
// `enroll URL --token TOKEN [--node ID]`: registers the node's key (made now when there is
// none) with the receiver at URL (agent/push/enroll_client.h) and keeps URL in the state
// directory, so the daemon pushes there without an upstream.url in the configuration. The
// node id is the configuration's (node.id, else the host name): --node must name it, since
// every record carries it. Exit 0 enrolled, 1 refused or failed, 3 usage.
struct EnrollArgs {
  std::string config_file;
  std::string state_dir;
  std::string url;
  std::string token;
  std::string node;
};
int RunEnrollCommand(const EnrollArgs& args);
int RunVerifyCommand(const std::string& records_file, const std::string& jwk_file);

}  // namespace fleet
