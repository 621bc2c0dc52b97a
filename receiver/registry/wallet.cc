#include "receiver/registry/wallet.h"

#include <algorithm>
#include <string_view>

#include "base/json_text.h"

namespace fleet::receiver {
namespace {

constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

bool AllBase58(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return kBase58.find(c) != std::string_view::npos; });
}

bool AllHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

}  // namespace

Outcome CheckWallet(const Wallet& wallet) {
  if (wallet.token != "USDC" && wallet.token != "USDT") {
    return Error{"wallet.token: '" + PrintableAscii(wallet.token, 20) + "' (known: USDC, USDT)"};
  }
  const std::string& a = wallet.address;
  const std::string shown = PrintableAscii(a, 60);
  if (wallet.chain == "ethereum" || wallet.chain == "polygon" || wallet.chain == "base" ||
      wallet.chain == "arbitrum") {
    if (a.size() != 42 || a[0] != '0' || a[1] != 'x' || !AllHex(std::string_view(a).substr(2))) {
      return Error{"wallet.address: '" + shown + "' is not an EVM address (0x and 40 hex digits)"};
    }
    return Success();
  }
  if (wallet.chain == "solana") {
    if (a.size() < 32 || a.size() > 44 || !AllBase58(a)) {
      return Error{"wallet.address: '" + shown +
                   "' is not a Solana address (32 to 44 base58 characters)"};
    }
    return Success();
  }
  if (wallet.chain == "tron") {
    if (a.size() != 34 || a[0] != 'T' || !AllBase58(a)) {
      return Error{"wallet.address: '" + shown +
                   "' is not a Tron address (T and 33 base58 characters)"};
    }
    return Success();
  }
  return Error{"wallet.chain: '" + PrintableAscii(wallet.chain, 20) +
               "' (known: ethereum, polygon, base, arbitrum, solana, tron)"};
}

}  // namespace fleet::receiver
