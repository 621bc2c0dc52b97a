// `fleet-agent config check FILE`: validates a configuration file as `run` reads it and,
// when alerting is on, reads the secrets it names (token and webhook URL files, systemd
// credentials from $CREDENTIALS_DIRECTORY) as the daemon does at start. Errors go to `err`
// one per line ("file:line:column: reason", or "file: reason" for a secret), with any
// warning (a secret file open to others) and any secret this user could not check (root's
// file read by hand, a credential outside its unit), then "file: invalid (N errors)"; with
// no error, "file: valid" on `out`. Nothing printed ever holds a secret. Without
// read_secrets (`--no-secrets`) only the file itself is checked: for a configuration meant
// for another machine, whose secret files are not here.
#pragma once

#include <ostream>
#include <string>

#include "core/os.h"

namespace fleet {

// 0 valid, 1 invalid.
int RunConfigCheck(const std::string& file, const Os& os, std::ostream& out, std::ostream& err,
                   bool read_secrets = true);

}  // namespace fleet
