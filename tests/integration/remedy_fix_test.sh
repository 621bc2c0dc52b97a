#!/usr/bin/env bash
# `fleet-agent fix` on a real node (lib/node_world.sh) beside a running daemon that has no
# remedies of its own: --dry-run says what it would do, changes nothing, and the daemon
# records a dry_run remediation; fix recreates a killed tmux session, prints what it did and
# the check after it (exit 0), the daemon signs a succeeded record; --only of a remedy not
# enabled and an unknown one are usage errors (3); without a daemon the fix is done and
# said to be unrecorded. Needs root (the world's tmpfs).
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
require_root "mounting a tmpfs"
command -v tmux >/dev/null || { echo "SKIPPED: tmux is not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIPPED: sqlite3 is not installed"; exit 77; }
agent=${FLEET_AGENT:?}
daemon=""
trap 'kill -9 $daemon 2>/dev/null; world_down' EXIT
world_up "$(mktemp -d /var/tmp/fleet-remedy-fix.XXXXXX)" || { echo "cannot build the test node"; exit 1; }
cp "$world/agent.yaml" "$world/fix.yaml"
cat >>"$world/fix.yaml" <<YAML
remedies:
  tmux:
    sessions:
      BURN2: {command: "sleep 100003"}
YAML
"$agent" run --config "$world/agent.yaml" 2>"$world/daemon.log" &
daemon=$!
status_has() { "$agent" status --state-dir "$world/state" --json 2>/dev/null | jq -e "$1" >/dev/null; }
wait_for 15 status_has '.ready == true'
expect_eq "daemon ready (no remedies of its own)" 0 $?
rows() { world_sql "select count(*) from remediations where $1"; }

tmux -S "$world_socket" kill-session -t BURN2
out=$("$agent" fix --config "$world/fix.yaml" --dry-run 2>&1)
expect_eq "fix --dry-run: exit as check (2, CRITICAL)" 2 $?
expect_match "... says what it would do" "would create tmux session BURN2" "$out"
expect_match "... and that the daemon recorded it" "1 of 1 action\(s\) recorded" "$out"
tmux -S "$world_socket" has-session -t BURN2 2>/dev/null
expect_eq "... and changes nothing" 1 $?
expect_eq "... a dry_run record" 1 "$(rows "outcome = 'dry_run' and target = 'BURN2'")"

out=$("$agent" fix --config "$world/fix.yaml" --only tmux 2>&1)
expect_eq "fix: exit 0, the check OK after it" 0 $?
expect_match "... prints what it did" "done: session BURN2 created, running \`sleep 100003\`" "$out"
expect_match "... and the check after it" "after: tmux: OK" "$out"
expect_match "... BURN2 runs its command" "sleep 100003" \
  "$(tmux -S "$world_socket" display-message -p -t BURN2 '#{pane_start_command}')"
expect_eq "... a succeeded record, signed" "1 1" \
  "$(rows "outcome = 'succeeded' and action = 'create_session'") $(world_sql "select count(*) from records where type = 'remediation' and payload like '%succeeded%'")"

out=$("$agent" fix --config "$world/fix.yaml" --only gateway 2>&1)
expect_eq "--only a remedy not enabled: usage error" 3 $?
expect_match "... saying so" "the gateway remedy is not enabled" "$out"
out=$("$agent" fix --config "$world/fix.yaml" --only reboot 2>&1)
expect_eq "--only an unknown remedy: usage error" 3 $?

kill -TERM $daemon; wait $daemon 2>/dev/null; daemon=""
tmux -S "$world_socket" kill-session -t BURN2
out=$("$agent" fix --config "$world/fix.yaml" 2>&1)
expect_eq "without a daemon: still fixed" 0 $?
expect_match "... and said to be unrecorded" "not recorded: no running daemon answered" "$out"
finish
