#include "receiver/web/shown_node.h"

#include "receiver/web/html.h"

namespace fleet::receiver {

Result<std::optional<ShownNode>> FindShownNode(WebReads& reads, const Viewer& viewer,
                                               const std::string& node) {
  auto registry = reads.source.LoadRegistry();
  if (!registry) return Error{"reading the registry: " + registry.error()};
  for (const auto& entry : registry->nodes) {
    if (entry.node != node) continue;
    if (!viewer.Sees(entry.operator_id)) break;
    return std::optional<ShownNode>(ShownNode{entry, std::move(*registry)});
  }
  return std::optional<ShownNode>();
}

Result<std::optional<std::string>> ReadParam(std::string_view query, std::string_view name) {
  bool present = false;
  for (std::string_view rest = query; !rest.empty();) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto key = PercentDecode(pair.substr(0, pair.find('=')));
    if (key && *key == name) present = true;
  }
  if (!present) return std::optional<std::string>();
  auto value = QueryValue(query, name);
  if (!value) return Error{std::string(name) + ": given more than once, too long or not text"};
  return std::optional<std::string>(std::move(*value));
}

HttpResponse JsonReply(int status, const nlohmann::json& body) {
  HttpResponse response{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        "", "application/json"};
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

}  // namespace fleet::receiver
