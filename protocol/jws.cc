#include "protocol/jws.h"

#include <sodium.h>

#include <optional>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace fleet {
namespace {

constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

std::string Sha256(std::string_view text) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return digest;
}

// The protected header (base64url of a JSON object): strict JSON, only alg, kid and typ.
// crit would name extensions a verifier must understand (we understand none); b64 false
// (RFC 7797) would make other verifiers read a different payload than ours.
Result<nlohmann::json> ParseProtectedHeader(std::string_view encoded) {
  auto text = Base64UrlDecode(encoded);
  if (!text) return Error{"the JWS header is not base64url"};
  auto header = ParseStrictJson(*text, 4);
  if (!header) return Error{"the JWS header is not a JSON object: " + header.error()};
  if (!header->is_object()) return Error{"the JWS header is not a JSON object"};
  for (const auto& [key, value] : header->items()) {
    if (key == "crit" || key == "b64") {
      return Error{"the JWS header must not carry " + key + " (no JWS extension is accepted)"};
    }
    if (key != "alg" && key != "kid" && key != "typ") {
      return Error{"the JWS header carries '" + PrintableAscii(key, 40) +
                   "' (only alg, kid and typ are accepted)"};
    }
  }
  return header;
}

}  // namespace

Result<nlohmann::json> ParseStrictJson(std::string_view text, int max_depth) {
  if (text.starts_with("\xEF\xBB\xBF")) {
    return Error{"starts with a byte order mark (JSON text must not)"};
  }
  if (JsonNestingDepth(text, max_depth) > max_depth) {
    return Error{"nested deeper than " + std::to_string(max_depth) + " levels"};
  }
  // The callback sees every key of every object as it is parsed (the SAX events under
  // nlohmann's DOM parser), so a repeat is caught although the DOM would hide it.
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  auto see = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      open_objects.emplace_back();
    } else if (event == Event::object_end && !open_objects.empty()) {
      open_objects.pop_back();
    } else if (event == Event::key && !open_objects.empty() && !duplicate) {
      std::string key = parsed.get<std::string>();
      if (!open_objects.back().insert(key).second) duplicate = std::move(key);
    }
    return true;
  };
  try {
    nlohmann::json value = nlohmann::json::parse(text, see);
    if (duplicate) return Error{"duplicate key '" + PrintableAscii(*duplicate, 40) + "'"};
    return value;
  } catch (const nlohmann::json::exception& e) {
    std::string_view what = e.what();
    if (auto close = what.find("] "); close != std::string_view::npos)
      what.remove_prefix(close + 2);
    return Error{"not valid JSON: " + PrintableAscii(what)};
  } catch (const std::exception& e) {
    return Error{"not valid JSON: " + PrintableAscii(e.what())};
  }
}

bool IsKeyIdShape(std::string_view kid) {
  if (kid.size() != 11) return false;
  auto bytes = Base64UrlDecode(kid);
  return bytes && bytes->size() == 8 && Base64UrlEncode(*bytes) == kid;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, &end, kVariant) != 0 ||
      end != text.data() + text.size()) {
    return Error{"not base64url"};
  }
  out.resize(length);
  return out;
}

std::string KeyId(const PublicKey& key) {
  std::string digest =
      Sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  return Base64UrlEncode(std::string_view(digest).substr(0, 8));
}

std::string ChainHash(std::string_view text) { return Base64UrlEncode(Sha256(text)); }

std::string GenesisHash() { return Base64UrlEncode(std::string(32, '\0')); }

std::string SignCompactJws(std::string_view payload_json, const SecretKey& secret,
                           const std::string& kid, std::string_view typ) {
  const nlohmann::json header = {{"alg", "EdDSA"}, {"kid", kid}, {"typ", typ}};
  const std::string signing_input =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload_json);
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size(), secret.data());
  return signing_input + "." +
         Base64UrlEncode(
             std::string_view(reinterpret_cast<const char*>(signature), sizeof signature));
}

Result<VerifiedJws> VerifyCompactJws(std::string_view jws, const PublicKey& key,
                                     std::string_view typ) {
  const auto first = jws.find('.');
  const auto second = first == std::string_view::npos ? first : jws.find('.', first + 1);
  if (second == std::string_view::npos || jws.find('.', second + 1) != std::string_view::npos) {
    return Error{"not a compact JWS (three base64url parts)"};
  }
  auto payload = Base64UrlDecode(jws.substr(first + 1, second - first - 1));
  auto signature = Base64UrlDecode(jws.substr(second + 1));
  if (!payload || !signature) return Error{"a JWS part is not base64url"};
  auto parsed = ParseProtectedHeader(jws.substr(0, first));
  if (!parsed) return Error{parsed.error()};
  const nlohmann::json& header = *parsed;
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || *alg != "EdDSA") {
    return Error{"alg must be EdDSA"};
  }
  auto typ_it = header.find("typ");
  if (typ_it == header.end() || !typ_it->is_string() || typ_it->get<std::string>() != typ) {
    return Error{"typ must be " + std::string(typ)};
  }
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) return Error{"kid missing"};
  if (signature->size() != crypto_sign_BYTES) return Error{"signature has the wrong length"};
  const std::string_view signing_input = jws.substr(0, second);
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature->data()),
                                  reinterpret_cast<const unsigned char*>(signing_input.data()),
                                  signing_input.size(), key.data()) != 0) {
    return Error{"bad signature"};
  }
  return VerifiedJws{kid->get<std::string>(), std::move(payload).value()};
}

Result<JwsHeader> ReadJwsHeader(std::string_view jws) {
  const auto first = jws.find('.');
  const auto second = first == std::string_view::npos ? first : jws.find('.', first + 1);
  if (second == std::string_view::npos || jws.find('.', second + 1) != std::string_view::npos) {
    return Error{"not a compact JWS (three base64url parts)"};
  }
  auto header = ParseProtectedHeader(jws.substr(0, first));
  if (!header) return Error{header.error()};
  auto text = [&](const char* key) {
    auto it = header->find(key);
    return it != header->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return JwsHeader{text("alg"), text("kid"), text("typ")};
}

std::string PublicJwk(const PublicKey& key) {
  const nlohmann::json jwk = {{"kty", "OKP"},
                              {"crv", "Ed25519"},
                              {"x", Base64UrlEncode(std::string_view(
                                        reinterpret_cast<const char*>(key.data()), key.size()))},
                              {"kid", KeyId(key)}};
  return jwk.dump();
}

Result<PublicKey> ParsePublicJwk(std::string_view jwk_json) {
  const auto jwk = nlohmann::json::parse(jwk_json, nullptr, false);
  if (jwk.is_discarded() || !jwk.is_object()) return Error{"the JWK is not a JSON object"};
  auto text = [&](const char* key) {
    auto it = jwk.find(key);
    return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (text("kty") != "OKP" || text("crv") != "Ed25519") {
    return Error{"the JWK is not an Ed25519 key (kty OKP, crv Ed25519)"};
  }
  auto x = jwk.find("x");
  if (x == jwk.end() || !x->is_string()) return Error{"the JWK has no x"};
  auto bytes = Base64UrlDecode(x->get<std::string>());
  if (!bytes || bytes->size() != 32) return Error{"the JWK's x is not a 32-byte base64url key"};
  PublicKey key{};
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

}  // namespace fleet
