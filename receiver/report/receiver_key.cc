#include "receiver/report/receiver_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fleet::receiver {
namespace {

Result<ReceiverKey> FromSeed(const std::string& seed, const std::string& path) {
  if (seed.size() != crypto_sign_SEEDBYTES) return Error{path + ": not a receiver key"};
  ReceiverKey key;
  crypto_sign_seed_keypair(key.public_key.data(), key.secret_key.data(),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  key.kid = KeyId(key.public_key);
  key.path = path;
  return key;
}

}  // namespace

Result<ReceiverKey> LoadReceiverKey(const std::string& path, bool create) {
  if (sodium_init() < 0) return Error{"libsodium failed to start"};
  std::ifstream in(path);
  if (in) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
      return Error{path + ": readable by others (mode " + std::to_string(info.st_mode & 0777) +
                   "): chmod 600 it"};
    }
    std::string text;
    std::getline(in, text);
    auto seed = Base64UrlDecode(text);
    if (!seed) return Error{path + ": not a receiver key"};
    return FromSeed(*seed, path);
  }
  if (!create) return Error{path + ": no receiver key (it is made when a month is closed)"};
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return LoadReceiverKey(path, false);  // made meanwhile
    return Error{path + ": cannot create: " + std::strerror(errno)};
  }
  const std::string text = Base64UrlEncode(seed) + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(seed.data(), seed.size());
  if (!written || !synced) {
    ::unlink(path.c_str());
    return Error{path + ": cannot write the key"};
  }
  auto key = LoadReceiverKey(path, false);
  if (key) key->created = true;
  return key;
}

Result<std::string> DefaultReceiverKeyPath(const std::string& db) {
  if (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0) {
    return Error{"a PostgreSQL database has no directory for the receiver's key: give --key FILE"};
  }
  const auto slash = db.rfind('/');
  return (slash == std::string::npos ? std::string(".") : db.substr(0, slash)) +
         "/receiver-statement.key";
}

}  // namespace fleet::receiver
