// WebhookApi: an alert as a plain JSON POST, for anything that is neither Telegram nor Discord
// (a pager, a ticket system, a script), as data (the HTTP is the caller's). The body is shaped
// like Prometheus Alertmanager's webhook (version "4"), so tools that read Alertmanager's read
// this: one group per alert (groupKey: the alert's key), one entry in `alerts` per check failing
// in it, and fleet-agent's own state in `fleet`. Every event is a new POST: a webhook has no
// message to edit, so an acknowledgement or a recovery posts the alert again with its new state
// (the receiving end deduplicates by groupKey and fingerprint). Node text is cut like every
// channel's (alert_text.h) and travels as JSON strings (invalid UTF-8 replaced), never markup.
// The URL is the secret: it never appears in an error. Pure.
//
//   {
//     "version": "4",
//     "status": "firing",                 // "resolved" once the check is fine again
//     "receiver": "fleet-agent",
//     "groupKey": "vps-fra-03/1/17",      // the alert's key: what an acknowledgement names
//     "groupLabels": {"node": "vps-fra-03"},
//     "commonLabels": {"node": "vps-fra-03", "severity": "critical"},
//     "commonAnnotations": {"summary": "CRITICAL: tmux on vps-fra-03"},   // the title line
//     "externalURL": "",
//     "truncatedAlerts": 0,
//     "alerts": [{
//       "status": "firing",
//       "labels": {"alertname": "tmux", "node": "vps-fra-03", "check": "tmux",
//                  "severity": "critical"},
//       "annotations": {"summary": "session BURN2 is gone",
//                       "fix": "tmux new -d -s BURN2 'hermes chat --yolo'"},   // "" when none
//       "startsAt": "2025-11-25T10:00:00Z",
//       "endsAt": "0001-01-01T00:00:00Z",   // Alertmanager's "not yet"; resolved: when
//       "fingerprint": "vps-fra-03/1/17/tmux"   // the alert's key, "/", the check
//     }],
//     "fleet": {
//       "state": "firing",                // firing, acknowledged, flapping or resolved
//       "acked_by": null, "acked_at": null, "ack_note": null,   // "@alice", RFC 3339, text
//       "reminder": false, "escalation": false, "test": false
//     }
//   }
//
// ReadWebhookAnswer: 2xx done (no message id), 429 rate limited (Retry-After, else 5 s), 408,
// 5xx and no status retry later, any other status refused (a 3xx too: redirects are not
// followed, so the URL is wrong).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "alerting/alert.h"
#include "alerting/api_answer.h"

namespace fleet::alerting {

std::string WebhookBody(const Alert& alert);

// retry_after: the Retry-After header in seconds, when the reply had one.
ApiAnswer ReadWebhookAnswer(long http_status, std::optional<std::int64_t> retry_after);

}  // namespace fleet::alerting
