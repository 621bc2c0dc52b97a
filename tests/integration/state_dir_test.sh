#!/bin/bash
# The state directory misbehaving: read-only at start (refused with a clear error), and
# full while running (a small tmpfs): the daemon keeps checking, logs the failure once
# while it repeats, and when space returns writes what it held back (queued heartbeats,
# the incident) and says it recovered.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
require_root "mounting tmpfs file systems"
agent=${FLEET_AGENT:?}
daemon=""
trap '[[ -n "$daemon" ]] && kill -9 $daemon 2>/dev/null; umount "$world/ro" "$world/state" 2>/dev/null; world_down' EXIT
world_up "$(mktemp -d /var/tmp/fleet-state.XXXXXX)" || { echo "cannot build the test node"; exit 1; }

# Read-only state dir: refused at start.
mkdir -p "$world/ro"
mount -t tmpfs -o ro,size=1m tmpfs "$world/ro"
err=$("$agent" run --config "$world/agent.yaml" --state-dir "$world/ro" 2>&1); rc=$?
expect_eq "read-only state dir: exit 1" 1 "$rc"
expect_match "read-only state dir: says why" "state_dir $world/ro is not writable: Read-only file system" "$err"

# Full state dir while running: the watched disk is the state tmpfs itself.
mount -t tmpfs -o size=2m tmpfs "$world/state"
sed -i "s|paths: \[$world/disk\]|paths: [$world/state]|" "$world/agent.yaml"
"$agent" run --config "$world/agent.yaml" 2>"$world/daemon.log" &
daemon=$!
for _ in $(seq 50); do jq -e .ready "$world/state/status.json" >/dev/null 2>&1 && break; sleep 0.2; done
expect_eq "daemon ready" true "$(jq .ready "$world/state/status.json")"
dd if=/dev/zero of="$world/state/fill" bs=64k status=none 2>/dev/null  # until ENOSPC
start_minute=$(($(date +%s) / 60))
wait_for 20 grep -q "history: .*full" "$world/daemon.log"
expect_eq "the full disk is noticed" 0 $?
# Stay full across a minute boundary (and 3 s on, the heartbeat is due 0-0.5 s after it):
# the heartbeat of the minute that ended has to wait in memory. While the disk is full
# nothing the daemon writes can show it (status.json is on the full disk too), so this
# waits on the clock; the assertion below (stamped before the space came back) fails if
# the heartbeat was not held back.
heartbeat_due() { (($(date +%s) >= (start_minute + 1) * 60 + 3)); }
wait_for 75 heartbeat_due || fail "the clock did not pass the minute boundary"
expect_eq "still running while full" 0 "$(kill -0 $daemon; echo $?)"
errors=$(grep -c "history: .*full.*(logged once while it repeats)" "$world/daemon.log")
expect_eq "the full disk is logged once" 1 "$errors"
space_back=$(date +%s)
rm -f "$world/state/fill"
wait_for 20 grep -q "history: recovered after" "$world/daemon.log"
expect_match "recovery is logged with a count" "history: recovered after [0-9]+ failures" "$(cat "$world/daemon.log")"
heartbeat_of() { [[ "$(world_sql "select count(*) from heartbeats where minute = $1")" == 1 ]]; }
wait_for 10 heartbeat_of "$start_minute"
expect_eq "the held-back heartbeat (the minute that ended while full) was written" 0 $?
expect_eq "... stamped when it was due, while the disk was full, not when written" 1 \
  "$(world_sql "select t < $space_back from heartbeats where minute = $start_minute")"
expect_eq "the disk incident was recorded" 1 "$(world_sql "select count(*) from incidents where check_name = 'disk'")"
kill -TERM $daemon; wait $daemon; rc=$?; daemon=""
expect_eq "clean stop" 0 "$rc"
expect_eq "integrity" ok "$(world_sql 'pragma integrity_check')"
finish
