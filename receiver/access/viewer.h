// Viewer: who is looking at the receiver's pages and JSON API, once a token or a session has
// been checked (access_tokens.h): the foundation's admin, who sees every operator, or one
// operator, who sees only their own nodes, records and statements. Every read of the
// dashboard takes a Viewer and filters where the data is read; a page never gets data it
// would then have to hide.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fleet::receiver {

struct Viewer {
  std::optional<std::string> operator_id;  // nullopt: the foundation's admin
  std::string token_id;                    // the token behind the request, for the log

  bool admin() const { return !operator_id.has_value(); }
  // May this viewer see what belongs to `owner` (an operator id)?
  bool Sees(std::string_view owner) const { return admin() || *operator_id == owner; }
};

}  // namespace fleet::receiver
