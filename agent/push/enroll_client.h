// EnrollClient: `fleet-agent enroll URL --token TOKEN` (issue 16). Asks the receiver for a
// nonce (POST <url>/v1/enroll/nonce), then sends the node's public JWK, node id, the token
// and the nonce with the key's proof over them (protocol/key_proof.h, EnrolProof) to POST
// <url>/v1/enroll, under the push client's HTTP rules (base/curl_session.h: TLS verified,
// the upstream's CA file and pinned key honoured, plain http to loopback only). On 200 it
// keeps the URL in <state_dir>/upstream.json (written whole, then renamed), and the daemon
// pushes there when the configuration names no upstream.url (EnrolledUpstreamUrl). A
// refusal is an Error carrying the receiver's reason and status.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"
#include "agent/records/node_key.h"
#include "base/result.h"

namespace fleet {

struct EnrolResult {
  std::string node;
  std::string operator_id;
  std::string kid;
  std::string registered_at;
};

// upstream.url is the receiver's base URL.
Result<EnrolResult> EnrolNode(const UpstreamSettings& upstream, const NodeKey& key,
                              const std::string& node, const std::string& token);

// Keeps the receiver's URL (and what it registered) in <state_dir>/upstream.json.
Outcome SaveEnrolledUpstream(const std::string& state_dir, const std::string& url,
                             const EnrolResult& enrolled);
// The URL saved there; nullopt when there is none (or it is unreadable: said in the log).
std::optional<std::string> EnrolledUpstreamUrl(const std::string& state_dir);

}  // namespace fleet
