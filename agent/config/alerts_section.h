// AlertsSection: the `alerts:` keys of the configuration (issue 13) as schema tables, and
// the rules across them: at least one channel, each channel's secret from exactly one
// source (a file or a systemd credential, never the YAML itself), a Telegram chat and,
// while it polls, someone allowed to acknowledge; escalation channels and escalate_after
// together. A secret written into the YAML is refused by its key with a message that
// never repeats it, and no error about a secret's key, a chat id, a user id or an
// api_base shows the value (a token pasted into the wrong key stays out of logs). The
// secrets themselves are read later (alert_secrets.h). Part of ParseConfig; not
// thread-safe.
#pragma once

#include "agent/config/config.h"
#include "agent/config/config_schema.h"

namespace fleet::config {

// Reads a non-null `alerts:` map into `alerts` (null or absent: alerting off, the
// defaults). Bound by reference: `alerts` must outlive the reader.
ValueReader AlertsSection(AlertSettings& alerts);

}  // namespace fleet::config
