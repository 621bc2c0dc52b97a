#include "agent/records/node_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace fleet {
namespace {

NodeKey FromSeed(const unsigned char* seed) {
  NodeKey key;
  crypto_sign_seed_keypair(key.public_key.data(), key.secret_key.data(), seed);
  key.kid = KeyId(key.public_key);
  return key;
}

}  // namespace

std::string NodeKeyPath(const std::string& state_dir) { return state_dir + "/node.key"; }

Result<std::optional<NodeKey>> LoadNodeKey(const std::string& state_dir) {
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
  const std::string path = NodeKeyPath(state_dir);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<NodeKey>{};
    return Error{path + ": " + std::strerror(errno)};
  }
  std::ifstream in(path);
  if (!in) return Error{path + ": cannot be read"};
  std::string line;
  std::getline(in, line);
  auto seed = Base64UrlDecode(line);
  if (!seed || seed->size() != crypto_sign_SEEDBYTES) {
    return Error{path + ": not a node key (one line: a 32-byte seed in base64url)"};
  }
  NodeKey key = FromSeed(reinterpret_cast<const unsigned char*>(seed->data()));
  sodium_memzero(seed->data(), seed->size());
  return std::optional<NodeKey>(key);
}

Result<NodeKey> CreateNodeKey(const std::string& state_dir, bool force) {
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
  const std::string path = NodeKeyPath(state_dir);
  const std::string temp = path + ".new";
  unsigned char seed[crypto_sign_SEEDBYTES];
  randombytes_buf(seed, sizeof seed);
  const std::string line =
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(seed), sizeof seed)) + "\n";
  NodeKey key = FromSeed(seed);
  sodium_memzero(seed, sizeof seed);
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{temp + ": " + std::strerror(errno)};
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) {
    ::unlink(temp.c_str());
    return Error{temp + ": could not write the key"};
  }
  // link() refuses to replace an existing key; rename() replaces it only when forced.
  const int rc = force ? ::rename(temp.c_str(), path.c_str()) : ::link(temp.c_str(), path.c_str());
  const int err = errno;
  ::unlink(temp.c_str());
  if (rc != 0) {
    if (err == EEXIST) {
      return Error{path +
                   " already exists; keep it, or replace it with --force (the "
                   "foundation must then register the new public key)"};
    }
    return Error{path + ": " + std::strerror(err)};
  }
  return key;
}

}  // namespace fleet
