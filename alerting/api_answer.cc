#include "alerting/api_answer.h"

namespace fleet::alerting {

std::string RedactSecret(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "<redacted>");
    at += 10;
  }
  return text;
}

}  // namespace fleet::alerting
