// The node-identity and record commands: `keygen [--force]` creates the node's Ed25519
// key in the state directory, `pubkey [--jwk]` prints its kid and public key, `records`
// prints the signed records (one JWS per line, oldest first), `verify FILE --jwk KEYFILE`
// checks a file of records (signatures, seq continuity, the prev chain) and names the
// first bad line. Exit codes: 0 good, 1 a bad record or an unusable state, 3 usage.
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
int RunVerifyCommand(const std::string& records_file, const std::string& jwk_file);

}  // namespace fleet
