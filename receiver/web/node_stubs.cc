// STUB: helper B2's node page and node records answer 404 until its branch is merged (the
// lead drops this file then).
#include "receiver/web/node_page.h"
#include "receiver/web/node_records.h"
#include "receiver/web/html.h"

namespace fleet::receiver {

HttpResponse NodePage(WebReads&, const Viewer& viewer, const std::string&, std::string_view) {
  return HtmlError(404, "Not found.", &viewer);
}
HttpResponse NodeJson(WebReads&, const Viewer&, const std::string&, std::string_view) {
  return JsonError(404, "not found");
}
HttpResponse NodeRecordsPage(WebReads&, const Viewer& viewer, const std::string&,
                             std::string_view) {
  return HtmlError(404, "Not found.", &viewer);
}
HttpResponse NodeRecordsNdjson(WebReads&, const Viewer&, const std::string&, std::string_view) {
  return JsonError(404, "not found");
}
HttpResponse NodeRecordsJson(WebReads&, const Viewer&, const std::string&, std::string_view) {
  return JsonError(404, "not found");
}

}  // namespace fleet::receiver
