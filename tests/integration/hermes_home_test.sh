#!/bin/bash
# `fleet-agent check --only cron` end to end on a copy of the Hermes home fixture
# (tests/data/hermes-home): the exit code, the table line and the --json document. Then
# the files an operator can break: a jobs.json of mode 000 read by a non-root agent (run as
# nobody through setpriv, because root reads it anyway), a FIFO (must not hang), a 100 MB
# file (refused by size). The fixture's failing job has a streak of 3 whatever today's
# date is, so the CRITICAL does not depend on the clock.
set -uo pipefail
source "$(dirname "$0")/lib/assert.sh"
agent=${FLEET_AGENT:?FLEET_AGENT must name the built binary}
source_dir=${FLEET_SOURCE_DIR:?FLEET_SOURCE_DIR must name the source tree}
command -v jq >/dev/null || { echo "SKIPPED: needs jq (packaging/install-deps.sh --test)"; exit 77; }
work=$(mktemp -d)
trap 'chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"' EXIT
chmod 755 "$work"
home="$work/hermes"
cp -r "$source_dir/tests/data/hermes-home" "$home"
chmod -R a+rX "$home"

# The fixture: CRITICAL, the failing job named with where to look, one JSON document.
out=$(HERMES_HOME="$home" timeout 20 "$agent" check --only cron --no-color); rc=$?
expect_eq "fixture exit code (CRITICAL)" 2 "$rc"
expect_match "table names the failing job" "CRITICAL +cron +job 'daily-report' failed 3 times in a row: Timeout" "$out"
expect_match "table says where to look" "see $home/cron/output/a1b2c3d4e5f6/" "$out"

HERMES_HOME="$home" timeout 20 "$agent" check --only cron --json >"$work/out.json"; rc=$?
expect_eq "--json exit code" 2 "$rc"
expect_eq "--json status" critical "$(jq -r '.checks[0].status' "$work/out.json")"
expect_eq "--json totals.jobs" 7 "$(jq '.checks[0].details.totals.jobs' "$work/out.json")"
expect_eq "--json file shape" "object with jobs" "$(jq -r '.checks[0].details.file_shape' "$work/out.json")"
expect_eq "--json job streak" 3 \
  "$(jq '.checks[0].details.jobs[]|select(.id=="a1b2c3d4e5f6")|.failure_streak' "$work/out.json")"
expect_eq "--json unicode name survives" "reminder: dentist ✓" \
  "$(jq -r '.checks[0].details.jobs[]|select(.id=="5e6f7a8b9c0d")|.name' "$work/out.json")"

# Mode 000 as a user without root's override. As root, run as nobody through setpriv, with
# the binary copied where nobody may run it (the build tree may sit under a private home).
unprivileged=""
if [[ $(id -u) -ne 0 ]]; then
  unprivileged=self
elif command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  unprivileged=nobody
  cp "$agent" "$work/fleet-agent"
  chmod 755 "$work/fleet-agent"
fi
run_unprivileged() {
  if [[ $unprivileged == nobody ]]; then
    timeout 20 setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$work/fleet-agent" "$@"
  else
    timeout 20 "$agent" "$@"
  fi
}
if [[ -n $unprivileged ]]; then
  chmod 000 "$home/cron/jobs.json"
  out=$(HERMES_HOME="$home" run_unprivileged check --only cron --no-color 2>&1); rc=$?
  expect_eq "mode 000 exit code (UNKNOWN)" 3 "$rc"
  expect_match "mode 000 says why" "UNKNOWN +cron +cannot read $home/cron/jobs.json: Permission denied" "$out"
  chmod 644 "$home/cron/jobs.json"
  # The same user reads it once it is readable: the denial above was the mode.
  HERMES_HOME="$home" run_unprivileged check --only cron >/dev/null 2>&1; rc=$?
  expect_eq "readable again for that user (CRITICAL)" 2 "$rc"
else
  echo "note: mode-000 case not run (root, but no setpriv or no user nobody)"
fi

# A FIFO named jobs.json, no writer: one line, no hang.
mv "$home/cron/jobs.json" "$work/jobs.json.saved"
mkfifo "$home/cron/jobs.json"
start=$(date +%s%N)
out=$(HERMES_HOME="$home" timeout 20 "$agent" check --only cron --no-color); rc=$?
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "FIFO exit code (UNKNOWN)" 3 "$rc"
expect_match "FIFO says why" "not a regular file" "$out"
if (( took_ms < 5000 )); then pass "FIFO answered in ${took_ms} ms"; else fail "FIFO took ${took_ms} ms"; fi
rm -f "$home/cron/jobs.json"

# 100 MB of real bytes: refused by its size before reading.
head -c 100000000 /dev/zero | tr '\0' ' ' >"$home/cron/jobs.json"
start=$(date +%s%N)
out=$(HERMES_HOME="$home" timeout 20 "$agent" check --only cron --no-color); rc=$?
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "100 MB exit code (UNKNOWN)" 3 "$rc"
expect_match "100 MB says why" "is 95 MiB, over the 4.0 MiB limit" "$out"
if (( took_ms < 2000 )); then pass "100 MB answered in ${took_ms} ms"; else fail "100 MB took ${took_ms} ms"; fi

finish
