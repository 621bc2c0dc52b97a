// `fleet-receiver tokens add|list|revoke`: the dashboard's access tokens
// (receiver/access/access_tokens.h). `add` prints the token alone on stdout, once (only its
// digest is kept), and on stderr its id, whom it is for and when it expires; `list` never shows a
// token, only ids, labels, times and state; `revoke ID` ends the token and its sessions. Exit
// codes as the rest of the CLI: 0, 1 runtime (database, unknown operator or token), 2 usage.
#pragma once

#include <string>

namespace fleet::receiver {

struct TokenAddArgs {
  std::string db;
  std::string operator_id;  // empty with admin
  bool admin = false;
  std::string label;
  std::string ttl = "90d";  // a duration, or "never"
};
int RunTokensAdd(const TokenAddArgs& args);
int RunTokensList(const std::string& db, bool json);
int RunTokensRevoke(const std::string& db, const std::string& id);

}  // namespace fleet::receiver
