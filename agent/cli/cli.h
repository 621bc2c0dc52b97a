// The fleet-agent command line: parses arguments and calls the library. Returns the
// process exit code; writes results to stdout and errors to stderr. Exit codes:
// `check` uses Nagios codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; a usage or
// configuration error is 3), `config check` 0 valid / 1 invalid, other usage errors 3.
#pragma once

namespace fleet {

int RunCli(int argc, char** argv);

}  // namespace fleet
