// Wallet: where an operator's payouts go (given at onboarding, in the registry YAML):
// an address, its chain and the token. Checked for shape only: EVM chains (ethereum,
// polygon, base, arbitrum) take 0x and 40 hex digits (the EIP-55 mixed-case checksum is
// NOT checked: it needs Keccak-256, which neither libsodium nor Debian 12's OpenSSL 3.0
// offers); solana takes 32 to 44 base58 characters; tron takes T and 33 base58
// characters. Tokens: USDC, USDT. Pure.
#pragma once

#include <string>

#include "base/result.h"

namespace fleet::receiver {

struct Wallet {
  std::string address;
  std::string chain;  // ethereum, polygon, base, arbitrum, solana, tron
  std::string token;  // USDC, USDT
};

// Success, or what is wrong (one line, naming the field).
Outcome CheckWallet(const Wallet& wallet);

}  // namespace fleet::receiver
