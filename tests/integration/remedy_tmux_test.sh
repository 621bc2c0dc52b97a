#!/usr/bin/env bash
# The tmux remedy with a real tmux (lib/node_world.sh: BURN with window FORGE, BURN2) and
# `fleet-agent run`: BURN2 killed is recreated with its configured command; with
# remain-on-exit on, BURN's first pane killed stays dead and is respawned with its
# command, while the busy FORGE pane in the same session keeps its process; each action a
# succeeded remediation record; a session whose command dies at once is recreated until
# `attempts` within the window (counted across the agent's restart), then exhausted. Needs root (the world's tmpfs).
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
world_up "$(mktemp -d /var/tmp/fleet-remedy-tmux.XXXXXX)" || { echo "cannot build the test node"; exit 1; }
tm() { tmux -S "$world_socket" "$@"; }
# FORGE busy: it prints all the time.
tm respawn-pane -k -t BURN:FORGE "sh -c 'while :; do date; sleep 0.3; done'"
forge_pid=$(tm display-message -p -t BURN:FORGE '#{pane_pid}')
cat >>"$world/agent.yaml" <<YAML
remedies:
  tmux:
    sessions:
      BURN: {command: "sleep 100001"}
      BURN2: {command: "sleep 100002"}
  limits: {attempts: 3, within: 1m, backoff: 1s, backoff_cap: 2s, reset_after: 1m}
YAML
"$agent" run --config "$world/agent.yaml" 2>"$world/daemon.log" &
daemon=$!
status_has() { "$agent" status --state-dir "$world/state" --json 2>/dev/null | jq -e "$1" >/dev/null; }
wait_for 15 status_has '.ready == true'
expect_eq "daemon ready" 0 $?
rows() { world_sql "select count(*) from remediations where $1"; }
has() { [[ "$(rows "$1")" -ge 1 ]]; }

# ---- a killed session: recreated with its command --------------------------------------
tm kill-session -t BURN2
wait_for 15 has "target = 'BURN2' and action = 'create_session' and outcome = 'succeeded'"
expect_eq "BURN2 killed: a succeeded create_session record" 1 \
  "$(rows "target = 'BURN2' and action = 'create_session' and outcome = 'succeeded'")"
expect_match "... BURN2 is back, running its command" "sleep 100002" \
  "$(tm display-message -p -t BURN2 '#{pane_start_command}')"
ok_again() { status_has '.checks[] | select(.name == "tmux") | .status == "ok"'; }
wait_for 10 ok_again
expect_eq "... and the check is OK again" 0 $?
healthy() { grep -q "remedy: created tmux session BURN2: tmux healthy" "$world/daemon.log"; }
wait_for 10 healthy
expect_eq "... 'healthy after' logged" 0 $?

# ---- a dead pane (remain-on-exit on): respawned; the busy pane beside it untouched -----
tm set-option -w -t BURN:0 remain-on-exit on
kill "$(tm display-message -p -t BURN:0.0 '#{pane_pid}')"
pane_dead() { [[ "$(tm display-message -p -t BURN:0.0 '#{pane_dead}')" == 1 ]]; }
wait_for 5 pane_dead || { fail "BURN:0.0 did not stay dead"; tm list-panes -a -F "#{session_name}:#{window_index}.#{pane_index} #{window_name} #{pane_dead} #{pane_start_command}" >&2; grep remed "$world/daemon.log" >&2; }
wait_for 15 has "target = 'BURN' and action = 'respawn_pane' and outcome = 'succeeded'"
expect_eq "BURN:0.0 dead: a succeeded respawn_pane record" 1 \
  "$(rows "target = 'BURN' and action = 'respawn_pane' and outcome = 'succeeded'")"
expect_eq "... the pane alive again, with its command" '0 "sleep 100001"' \
  "$(tm display-message -p -t BURN:0.0 '#{pane_dead} #{pane_start_command}')"
expect_eq "... the busy FORGE pane kept its process" "$forge_pid" \
  "$(tm display-message -p -t BURN:FORGE '#{pane_pid}')"
expect_eq "... and nothing was done to FORGE" 0 "$(rows "target = 'FORGE'")"
expect_eq "... every action is a signed remediation record" \
  "$(world_sql "select count(*) from remediations")" \
  "$(world_sql "select count(*) from records where type = 'remediation'")"

# ---- a command that dies at once: exactly `attempts` creations, then exhausted ---------
# remain-on-exit off (the default) for a new session: its pane closes, the session with it.
kill -TERM $daemon; wait $daemon 2>/dev/null
sed -i 's/BURN2: {command: "sleep 100002"}/BURN2: {command: "exit 3"}/' "$world/agent.yaml"
"$agent" run --config "$world/agent.yaml" 2>>"$world/daemon.log" &
daemon=$!
wait_for 15 status_has '.ready == true'
tm kill-session -t BURN2
wait_for 30 has "target = 'BURN2' and outcome = 'exhausted'"
expect_eq "BURN2 dying at once: one exhausted record" 1 "$(rows "target = 'BURN2' and outcome = 'exhausted'")"
# The limits are per target and survive the agent's restart: the first creation counts in
# the same `within`, so two more attempts, both failed, make `attempts` (3) in all.
expect_eq "... exactly 3 attempts on BURN2 in all: 1 succeeded, then 2 failed" \
  "1 succeeded|2 failed|3 failed" \
  "$(world_sql "select attempt || ' ' || outcome from remediations where target = 'BURN2' and outcome != 'exhausted' order by id" | paste -sd'|')"
expect_eq "... each failure says the command exited at once" 2 \
  "$(rows "target = 'BURN2' and outcome = 'failed' and changed like '%exited at once%'")"
expect_eq "... FORGE still untouched" "$forge_pid" "$(tm display-message -p -t BURN:FORGE '#{pane_pid}')"
report=$("$agent" report --config "$world/agent.yaml" --state-dir "$world/state" 2>&1)
expect_match "fleet-agent report shows what the remedies did" \
  "Remedies    [0-9]+ action\(s\): 1 exhausted, 2 failed, 2 succeeded" "$report"
expect_match "... each action under its incident" \
  "fixed by the agent: .*respawn_pane BURN: succeeded \(attempt 1\), pane BURN:0.0 respawned" "$report"
finish
