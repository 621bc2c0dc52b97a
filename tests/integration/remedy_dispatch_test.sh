#!/usr/bin/env bash
# The dispatch remedy with `fleet-agent run` (lib/node_world.sh): the queue file made
# unparsable is moved into the state directory's quarantine, its content kept, and a
# succeeded quarantine_file record written; once Hermes (here the test) writes it again
# the check is OK. A broken queue file that is a symlink is left where it is, untried. Needs root
# (the world's tmpfs).
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
require_root "mounting a tmpfs"
command -v sqlite3 >/dev/null || { echo "SKIPPED: sqlite3 is not installed"; exit 77; }
agent=${FLEET_AGENT:?}
daemon=""
trap 'kill -9 $daemon 2>/dev/null; world_down' EXIT
world_up "$(mktemp -d /var/tmp/fleet-remedy-dispatch.XXXXXX)" || { echo "cannot build the test node"; exit 1; }
# A second queue file, on the tmpfs (another file system than the state directory).
echo '[]' >"$world/disk/queue.json"
sed -i "s|files: \[fleet-dispatch-state.json\]|files: [fleet-dispatch-state.json, $world/disk/queue.json, linked.json]|" "$world/agent.yaml"
echo 'garbage' >"$world/elsewhere.json"
ln -s "$world/elsewhere.json" "$world/home/linked.json"
cat >>"$world/agent.yaml" <<YAML
remedies:
  dispatch: {quarantine_broken: true}
YAML
"$agent" run --config "$world/agent.yaml" 2>"$world/daemon.log" &
daemon=$!
status_has() { "$agent" status --state-dir "$world/state" --json 2>/dev/null | jq -e "$1" >/dev/null; }
wait_for 15 status_has '.ready == true'
expect_eq "daemon ready" 0 $?
rows() { world_sql "select count(*) from remediations where $1"; }
has() { [[ "$(rows "$1")" -ge 1 ]]; }

printf '{"rotations": [' >"$world/home/fleet-dispatch-state.json"
printf '' >"$world/disk/queue.json"
wait_for 15 has "target = '$world/home/fleet-dispatch-state.json' and outcome = 'succeeded'"
wait_for 15 has "target = '$world/disk/queue.json' and outcome = 'succeeded'"
expect_eq "both broken files quarantined (records)" 2 \
  "$(rows "action = 'quarantine_file' and outcome = 'succeeded'")"
[[ ! -e "$world/home/fleet-dispatch-state.json" && ! -e "$world/disk/queue.json" ]] &&
  pass "... moved away from where they were" || fail "a broken file is still in place"
expect_eq "... kept whole in the quarantine" '{"rotations": [' \
  "$(cat "$world"/state/quarantine/fleet-dispatch-state.json.*)"
expect_eq "... the empty one too, across file systems" "0" \
  "$(stat -c %s "$world"/state/quarantine/queue.json.*)"
expect_eq "the broken symlinked file is left where it is" garbage "$(cat "$world/home/linked.json")"
expect_eq "... and no action is tried on it" 0 "$(rows "target = '$world/home/linked.json'")"

# Hermes' watchdog recreates them: the check is fine again for those two.
echo '{"rotations": []}' >"$world/home/fleet-dispatch-state.json"
echo '[]' >"$world/disk/queue.json"
rm "$world/home/linked.json"; echo '{}' >"$world/home/linked.json"
ok_again() { status_has '.checks[] | select(.name == "dispatch") | .status == "ok"'; }
wait_for 10 ok_again
expect_eq "recreated: the dispatch check is OK" 0 $?
finish
