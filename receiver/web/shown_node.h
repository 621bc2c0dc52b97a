// ShownNode: the node a dashboard request names, found where it is read: the registry's entry
// when the viewer may see the node's operator (Viewer::Sees), else nothing, exactly as for a
// node the registry does not know, so a page answers both with the same 404 and no one learns
// which nodes another operator has.
// Not thread-safe: the WebReads of one request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "receiver/access/viewer.h"
#include "receiver/report/report_source.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

struct ShownNode {
  NodeRegistration registration;
  Registry registry;  // the whole registry, as read for this request
};

Result<std::optional<ShownNode>> FindShownNode(WebReads& reads, const Viewer& viewer,
                                               const std::string& node);

inline constexpr std::string_view kNoSuchNode = "no such node";

}  // namespace fleet::receiver
