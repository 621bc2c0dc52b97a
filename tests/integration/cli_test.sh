#!/bin/bash
# The command line as an operator uses it: version, help, usage errors, exit codes that
# match the worst status, and a --json document that follows the schema.
set -uo pipefail
source "$(dirname "$0")/lib/assert.sh"
agent=${FLEET_AGENT:?FLEET_AGENT must name the built binary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

out=$("$agent" --version); rc=$?
expect_eq "--version exit" 0 "$rc"
expect_match "--version text" '^fleet-agent [0-9]+\.[0-9]+\.[0-9]+' "$out"

out=$("$agent" --help); rc=$?
expect_eq "--help exit" 0 "$rc"
expect_match "--help lists check" 'check' "$out"
"$agent" check --help >/dev/null; expect_eq "check --help exit" 0 "$?"

err=$("$agent" 2>&1 >/dev/null); rc=$?
expect_eq "no subcommand exit" 3 "$rc"
expect_match "no subcommand says so" 'subcommand' "$err"

err=$("$agent" check --only nosuch 2>&1 >/dev/null); rc=$?
expect_eq "unknown check exit" 3 "$rc"
expect_match "unknown check message" "unknown check 'nosuch' \(known: tmux, gateway, disk, cron, dispatch\)" "$err"
expect_eq "unknown check: one line" 1 "$(printf '%s\n' "$err" | wc -l)"

err=$("$agent" check --bogus 2>&1 >/dev/null); rc=$?
expect_eq "unknown flag exit" 3 "$rc"

# A whole run on the embedded defaults: the JSON document and the exit code agree.
HERMES_HOME="$work/no-hermes" TMUX_TMPDIR="$work" "$agent" check --json >"$work/out.json"; rc=$?
jq -e . "$work/out.json" >/dev/null; expect_eq "--json is one JSON document" 0 "$?"
status=$(jq -r .status "$work/out.json")
case "$status" in ok) want=0 ;; warning) want=1 ;; critical) want=2 ;; unknown) want=3 ;; *) want=x ;; esac
expect_eq "exit code matches status $status" "$want" "$rc"
expect_eq "check names" "tmux,gateway,disk,cron,dispatch" "$(jq -r '[.checks[].name]|join(",")' "$work/out.json")"
expect_eq "every check has the schema's fields" 5 \
  "$(jq '[.checks[]|select((.status|test("^(ok|warning|critical|unknown)$")) and (.summary|type=="string") and (.details|type=="object") and (.duration_ms|type=="number"))]|length' "$work/out.json")"
expect_match "time is RFC 3339 UTC" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$(jq -r .time "$work/out.json")"
expect_eq "node defaults to the hostname" "$(hostname)" "$(jq -r .node "$work/out.json")"
# With no tmux server at all, the tmux check is CRITICAL, so the node is.
expect_eq "no tmux server: tmux critical" critical "$(jq -r '.checks[]|select(.name=="tmux").status' "$work/out.json")"
expect_eq "no tmux server: exit 2" 2 "$rc"

# --only runs one check; the table has one line per check and no colour off a terminal.
HERMES_HOME="$work/no-hermes" "$agent" check --only disk >"$work/table.txt"; rc=$?
expect_eq "--only disk: one check line" 1 "$(grep -cE '^(OK|WARNING|CRITICAL|UNKNOWN) +disk' "$work/table.txt")"
expect_eq "--only disk: no other check" 0 "$(grep -cE '^(OK|WARNING|CRITICAL|UNKNOWN) +(tmux|gateway|cron|dispatch)' "$work/table.txt")"
expect_eq "no colour when not a terminal" 0 "$(grep -c $'\033' "$work/table.txt")"

# libcurl is loaded only by a pushing daemon (curl_library.h): check never maps it.
LD_DEBUG=files "$agent" check --only disk >/dev/null 2>"$work/ld.txt"
expect_match "the loader's trace is there" 'file=libc\.so' "$(cat "$work/ld.txt")"
expect_eq "check does not load libcurl" 0 "$(grep -c 'file=libcurl' "$work/ld.txt")"
# Lean linking (CMakeLists.txt) puts libstdc++, spdlog, fmt, SQLite, libsodium and yaml-cpp
# inside the binary: none may come in shared as well (two libstdc++ in one process).
if [[ "${FLEET_LEAN:-}" == ON ]]; then
  expect_eq "lean build: no shared libstdc++, spdlog, fmt, sqlite, sodium or yaml-cpp loaded" "" \
    "$(grep -oE 'file=lib(stdc\+\+|spdlog|fmt|sqlite3|sodium|yaml-cpp)[^ ]*' "$work/ld.txt" | sort -u)"
else
  echo "skip: lean-link assertions (FLEET_LEAN=${FLEET_LEAN:-unset}: not a lean build)"
fi

finish
