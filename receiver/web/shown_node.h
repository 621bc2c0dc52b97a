// ShownNode: the node a dashboard request names, found where it is read: the registry's entry
// when the viewer may see the node's operator (Viewer::Sees), else nothing, exactly as for a
// node the registry does not know, so a page answers both with the same 404 and no one learns
// which nodes another operator has. ReadParam reads one query parameter for the node's pages:
// absent is nullopt, a value given but unreadable (repeated, too long, a broken escape, not
// plain text: html.h QueryValue) is an Error naming the parameter (the page answers 400).
// Not thread-safe: the WebReads of one request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/report/report_source.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

struct ShownNode {
  NodeRegistration registration;
  Registry registry;  // the whole registry, as read for this request
};

Result<std::optional<ShownNode>> FindShownNode(WebReads& reads, const Viewer& viewer,
                                               const std::string& node);

Result<std::optional<std::string>> ReadParam(std::string_view query, std::string_view name);

// A JSON answer of the node's pages (text not UTF-8 replaced, never thrown), with Cache-Control
// no-store; errors are http_server.h's JsonError ({"error": message}).
HttpResponse JsonReply(int status, const nlohmann::json& body);
inline constexpr std::string_view kNoSuchNode = "no such node";

}  // namespace fleet::receiver
