// A key pair made from a seed of one repeated byte, with its key id: the same key in every
// run, for tests that compare signatures or kids. Key is any type with public_key,
// secret_key and kid (the agent's NodeKey, a test's own).
#pragma once

#include <sodium.h>

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "protocol/jws.h"

namespace fleet::testing {

template <typename Key>
Key KeyFromSeedByte(unsigned char b) {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
  unsigned char seed[32];
  std::fill(std::begin(seed), std::end(seed), b);
  Key key;
  crypto_sign_seed_keypair(key.public_key.data(), key.secret_key.data(), seed);
  key.kid = KeyId(key.public_key);
  return key;
}

}  // namespace fleet::testing
