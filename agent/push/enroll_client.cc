#include "agent/push/enroll_client.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/curl_library.h"
#include "base/curl_session.h"
#include "base/json_text.h"
#include "protocol/key_proof.h"

namespace fleet {
namespace {

std::string Base(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The receiver's answer as JSON: its body on 200, else an Error with its status and reason.
Result<nlohmann::json> Post(CurlSession& session, const std::string& url, const std::string& body) {
  CurlExchange exchange;
  exchange.url = url;
  exchange.body = body;
  auto reply = session.Perform(exchange);
  if (!reply) {
    const std::string& detail = session.curl_message();
    return Error{url + ": " + (detail.empty() ? reply.error() : PrintableAscii(detail, 300))};
  }
  auto json = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status != 200) {
    std::string why = json.is_object() && json.contains("error") && json["error"].is_string()
                          ? json["error"].get<std::string>()
                          : PrintableAscii(reply->body, 200);
    return Error{url + " refused (" + std::to_string(reply->status) +
                 "): " + PrintableAscii(why, 400)};
  }
  if (!json.is_object()) return Error{url + ": the answer is not a JSON object"};
  return json;
}

std::string Field(const nlohmann::json& json, const char* name) {
  auto it = json.find(name);
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string UpstreamFile(const std::string& state_dir) { return state_dir + "/upstream.json"; }

}  // namespace

Result<EnrolResult> EnrolNode(const UpstreamSettings& upstream, const NodeKey& key,
                              const std::string& node, const std::string& token) {
  auto scheme = SchemeToSend(upstream.url);
  if (!scheme) return Error{PrintableAscii(upstream.url, 200) + ": " + scheme.error()};
  auto lib = LoadCurlLibrary();
  if (!lib) return Error{lib.error()};
  CurlLimits limits;
  limits.connect_timeout = upstream.connect_timeout;
  limits.timeout = upstream.timeout;
  limits.ca_file = upstream.ca_file;
  limits.pinned_pubkey = upstream.pinned_pubkey;
  auto session = CurlSession::Create(
      **lib, limits,
      {"Content-Type: application/json", "Expect:", "User-Agent: fleet-agent/" FLEET_VERSION});
  if (!session) return Error{session.error()};
  if (*scheme == HttpScheme::kPlainHttp) {
    if (auto set = (*session)->RequireLoopback(true); !set) return Error{set.error()};
  }
  const std::string base = Base(upstream.url);
  auto nonce_reply = Post(**session, base + "/v1/enroll/nonce", "{}");
  if (!nonce_reply) return Error{nonce_reply.error()};
  const std::string nonce = Field(*nonce_reply, "nonce");
  if (nonce.empty()) return Error{base + "/v1/enroll/nonce: no nonce in the answer"};
  const nlohmann::json request = {
      {"token", token},
      {"node", node},
      {"jwk", nlohmann::json::parse(PublicJwk(key.public_key))},
      {"nonce", nonce},
      {"proof", protocol::SignEnrolProof({node, nonce, protocol::TokenDigest(token)},
                                         key.secret_key, key.kid)}};
  auto answer = Post(**session, base + "/v1/enroll", DumpJson(request));
  if (!answer) return Error{answer.error()};
  EnrolResult result{Field(*answer, "node"), Field(*answer, "operator"), Field(*answer, "kid"),
                     Field(*answer, "registered_at")};
  if (result.node != node || result.kid != key.kid) {
    return Error{base + "/v1/enroll registered node '" + PrintableAscii(result.node, 64) +
                 "' kid '" + PrintableAscii(result.kid, 20) + "', not node " + node + " kid " +
                 key.kid};
  }
  return result;
}

Outcome SaveEnrolledUpstream(const std::string& state_dir, const std::string& url,
                             const EnrolResult& enrolled) {
  const std::string path = UpstreamFile(state_dir);
  const std::string temp = path + ".new";
  const std::string text = DumpJson({{"url", url},
                                     {"node", enrolled.node},
                                     {"operator", enrolled.operator_id},
                                     {"kid", enrolled.kid},
                                     {"registered_at", enrolled.registered_at}}) +
                           "\n";
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Error{temp + ": " + std::strerror(errno)};
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Error{path + ": could not be written"};
  }
  return Success();
}

std::optional<std::string> EnrolledUpstreamUrl(const std::string& state_dir) {
  std::ifstream in(UpstreamFile(state_dir));
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  const std::string url = json.is_object() ? Field(json, "url") : std::string();
  if (url.empty() || !SchemeToSend(url)) {
    spdlog::warn("{}: no usable url in it (fleet-agent enroll writes it)", UpstreamFile(state_dir));
    return std::nullopt;
  }
  return url;
}

}  // namespace fleet
