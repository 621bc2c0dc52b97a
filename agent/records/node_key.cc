#include "agent/records/node_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <cstdlib>
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

Result<std::optional<NodeKey>> LoadKeyFile(const std::string& path) {
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
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

// A fresh key written to `temp` (mode 0600, synced).
Result<NodeKey> WriteFreshKey(const std::string& temp) {
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
  unsigned char seed[crypto_sign_SEEDBYTES];
  randombytes_buf(seed, sizeof seed);
  std::string line =
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(seed), sizeof seed)) + "\n";
  NodeKey key = FromSeed(seed);
  sodium_memzero(seed, sizeof seed);
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{temp + ": " + std::strerror(errno)};
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  sodium_memzero(line.data(), line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) {
    ::unlink(temp.c_str());
    return Error{temp + ": could not write the key"};
  }
  return key;
}

Outcome SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error{dir + ": " + std::strerror(errno)};
  const bool synced = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!synced) return Error{dir + ": " + std::strerror(err)};
  return Success();
}

// For the crash tests of rotation (tests/integration/rotate_key_crash_test.sh): the process
// kills itself (SIGKILL, as kill -9) at the named step when FLEET_TEST_CRASH_AT names it.
void CrashPoint(const char* step) {
  const char* at = std::getenv("FLEET_TEST_CRASH_AT");
  if (at != nullptr && std::strcmp(at, step) == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace

void RotationCrashPoint(const char* step) { CrashPoint(step); }

std::string NodeKeyPath(const std::string& state_dir) { return state_dir + "/node.key"; }

Result<std::optional<NodeKey>> LoadNodeKey(const std::string& state_dir) {
  return LoadKeyFile(NodeKeyPath(state_dir));
}

Result<NodeKey> CreateNodeKey(const std::string& state_dir, bool force) {
  const std::string path = NodeKeyPath(state_dir);
  const std::string temp = path + ".new";
  auto fresh = WriteFreshKey(temp);
  if (!fresh) return Error{fresh.error()};
  NodeKey key = std::move(fresh).value();
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

std::string NextNodeKeyPath(const std::string& state_dir) {
  return NodeKeyPath(state_dir) + ".next";
}

std::string RetiredNodeKeyPath(const std::string& state_dir, const std::string& kid) {
  return NodeKeyPath(state_dir) + "." + kid;
}

Result<NodeKey> FindNodeKey(const std::string& state_dir, const std::string& kid) {
  if (!IsKeyIdShape(kid)) return Error{"'" + kid + "' is not a kid"};
  for (const std::string& path :
       {NodeKeyPath(state_dir), NextNodeKeyPath(state_dir), RetiredNodeKeyPath(state_dir, kid)}) {
    auto key = LoadKeyFile(path);
    if (!key) return Error{key.error()};
    if (key->has_value() && (*key)->kid == kid) return **key;
  }
  return Error{"no key with kid " + kid + " in " + state_dir +
               " (node.key, node.key.next, node.key." + kid + ")"};
}

Result<NodeKey> CreateNextNodeKey(const std::string& state_dir) {
  const std::string path = NextNodeKeyPath(state_dir);
  auto key = WriteFreshKey(path + ".new");
  if (!key) return Error{key.error()};
  if (::rename((path + ".new").c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink((path + ".new").c_str());
    return Error{path + ": " + std::strerror(err)};
  }
  if (auto synced = SyncDirectory(state_dir); !synced) return Error{synced.error()};
  return key;
}

Outcome PromoteNextNodeKey(const std::string& state_dir, const std::string& old_kid,
                           const std::string& new_kid) {
  const std::string path = NodeKeyPath(state_dir);
  auto current = LoadKeyFile(path);
  if (!current) return Error{current.error()};
  if (current->has_value() && (*current)->kid == new_kid) return SyncDirectory(state_dir);
  if (!current->has_value() || (*current)->kid != old_kid) {
    return Error{path + " holds neither kid " + old_kid + " nor kid " + new_kid};
  }
  auto next = LoadKeyFile(NextNodeKeyPath(state_dir));
  if (!next) return Error{next.error()};
  if (!next->has_value() || (*next)->kid != new_kid) {
    return Error{NextNodeKeyPath(state_dir) + " does not hold kid " + new_kid};
  }
  const std::string kept = RetiredNodeKeyPath(state_dir, old_kid);
  if (::link(path.c_str(), kept.c_str()) != 0 && errno != EEXIST) {
    return Error{kept + ": " + std::strerror(errno)};
  }
  CrashPoint("kept-old");
  if (::rename(NextNodeKeyPath(state_dir).c_str(), path.c_str()) != 0) {
    const int err = errno;
    auto now = LoadKeyFile(path);  // another process promoted it meanwhile?
    if (!now || !now->has_value() || (*now)->kid != new_kid) {
      return Error{path + ": " + std::strerror(err)};
    }
  }
  return SyncDirectory(state_dir);
}

Outcome ForgetRetiredNodeKeys(const std::string& state_dir) {
  DIR* dir = ::opendir(state_dir.c_str());
  if (dir == nullptr) return Error{state_dir + ": " + std::strerror(errno)};
  std::vector<std::string> kept;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    const std::string prefix = "node.key.";
    if (name.starts_with(prefix) && IsKeyIdShape(name.substr(prefix.size()))) kept.push_back(name);
  }
  ::closedir(dir);
  for (const std::string& name : kept) {
    const std::string path = state_dir + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Error{path + ": " + std::strerror(errno)};
    }
  }
  if (kept.empty()) return Success();
  return SyncDirectory(state_dir);
}

Result<std::int64_t> NodeKeyWrittenAt(const std::string& state_dir) {
  const std::string path = NodeKeyPath(state_dir);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{path + ": " + std::strerror(errno)};
  return static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

const NodeKey& NodeKeyRing::SignerOf(std::string_view jws) {
  auto header = ReadJwsHeader(jws);
  if (!header || header->kid == current_.kid) return current_;
  for (const NodeKey& key : kept_) {
    if (key.kid == header->kid) return key;
  }
  auto found = FindNodeKey(state_dir_, header->kid);
  if (!found) return current_;  // forgotten: the receiver knows the current key by now
  kept_.push_back(std::move(found).value());
  return kept_.back();
}

}  // namespace fleet
