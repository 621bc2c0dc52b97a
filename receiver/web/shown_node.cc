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

}  // namespace fleet::receiver
