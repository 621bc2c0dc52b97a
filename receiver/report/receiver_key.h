// ReceiverKey: the receiver's own Ed25519 key, which signs closed statements. Kept in one
// file (the base64url of the 32-byte seed and a newline, mode 0600), made on first use
// (O_EXCL, so two processes never make two keys); its public half is printed as a JWK
// (`fleet-receiver key show`). DefaultReceiverKeyPath puts it beside a SQLite database;
// a PostgreSQL database has no directory, so the caller names the file.
#pragma once

#include <string>

#include "base/result.h"
#include "protocol/jws.h"

namespace fleet::receiver {

struct ReceiverKey {
  PublicKey public_key{};
  SecretKey secret_key{};
  std::string kid;
  std::string path;
  bool created = false;  // made by this call
};

// Reads the key at `path`, or makes it when absent and `create`.
Result<ReceiverKey> LoadReceiverKey(const std::string& path, bool create);

// "<the database's directory>/receiver-statement.key"; an error for a postgresql:// URI.
Result<std::string> DefaultReceiverKeyPath(const std::string& db);

}  // namespace fleet::receiver
