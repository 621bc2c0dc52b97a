#!/bin/bash
# `fleet-agent run` against a real node: start it, change the world (stop a tmux session,
# fill a tmpfs, mark a cron job failed), and see heartbeats, tasks and incidents appear in
# the history, then in `report` and `status`; SIGHUP with a broken config keeps the old
# one; SIGTERM stops cleanly with agent_stop.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
require_root "mounting a tmpfs"
agent=${FLEET_AGENT:?}
trap 'kill -9 $daemon 2>/dev/null; world_down' EXIT
world_up "$(mktemp -d /var/tmp/fleet-daemon.XXXXXX)" || { echo "cannot build the test node"; exit 1; }

"$agent" run --config "$world/agent.yaml" 2>"$world/daemon.log" &
daemon=$!
status_has() { "$agent" status --state-dir "$world/state" --json 2>/dev/null | jq -e "$1" >/dev/null; }
check_is() { status_has ".checks[]|select(.name==\"$1\")|.status==\"$2\""; }
sql_is() { [[ "$(world_sql "$1")" == "$2" ]]; }
sql_at_least() { [[ "$(world_sql "$1")" -ge "$2" ]]; }

wait_for 10 status_has '.ready == true'; expect_eq "daemon ready" 0 $?
wait_for 10 status_has '[.checks[]|select(.status=="ok")]|length == 4'
expect_eq "all four checks OK on a healthy node" 0 $?
expect_eq "node up" true "$("$agent" status --state-dir "$world/state" --json | jq .up)"
expect_eq "one heartbeat so far, up" "1|1" "$(world_sql 'select count(*), sum(up) from heartbeats')"
expect_eq "the finished cron run is a task" "1" "$(world_sql "select count(*) from tasks where ok=1")"

# Change the world.
tmux -S "$world/tmux/sock" kill-session -t BURN2
wait_for 10 check_is tmux critical
expect_eq "tmux session gone: CRITICAL" 0 $?
wait_for 5 sql_is "select count(*) from incidents where check_name='tmux' and closed is null" 1
expect_eq "incident opened for tmux" 0 $?
dd if=/dev/zero of="$world/disk/fill" bs=1k count=3800 status=none
wait_for 10 check_is disk critical
expect_eq "tmpfs past 90%: disk CRITICAL" 0 $?
world_cron error "$(date -u -d "-5 min" +%Y-%m-%dT%H:%M:%S+00:00)"
wait_for 10 sql_is "select count(*) from tasks where ok=0" 1
expect_eq "a failed cron run is a failed task" 0 $?

tmux -S "$world/tmux/sock" new-session -d -s BURN2 'sleep 100000'
wait_for 10 sql_is "select count(*) from incidents where check_name='tmux' and closed is not null" 1
expect_eq "tmux recovered: incident closed" 0 $?

# SIGHUP with a broken config: refused, still running the old one.
cp "$world/agent.yaml" "$world/good.yaml"
sed -i "s/expect: \[BURN, BURN2, FORGE\]/expcet: [BURN]/" "$world/agent.yaml"
kill -HUP $daemon; sleep 1
expect_eq "still running after a broken reload" 0 "$(kill -0 $daemon; echo $?)"
expect_match "the broken key is named with its position" "agent.yaml:[0-9]+:[0-9]+: .*expcet" "$(cat "$world/daemon.log")"
expect_eq "reload count unchanged" 0 "$("$agent" status --state-dir "$world/state" --json | jq .reloads)"
cp "$world/good.yaml" "$world/agent.yaml"
sed -i 's/expect: \[BURN, BURN2, FORGE\]/expect: [BURN, FORGE]/' "$world/agent.yaml"
sed -i 's/  dispatch: {files: \[fleet-dispatch-state.json\], interval: 1s, timeout: 1s}/  dispatch: {enabled: false}/' "$world/agent.yaml"
kill -HUP $daemon
wait_for 5 status_has '.reloads == 1'; expect_eq "a good reload is applied" 0 $?
expect_eq "a check disabled by the reload leaves the status" 0 \
  "$("$agent" status --state-dir "$world/state" --json | jq '[.checks[]|select(.name=="dispatch")]|length')"

# Heartbeats every minute: wait for the next minute boundary to pass.
first=$(world_sql 'select min(minute) from heartbeats')
wait_for 75 sql_at_least "select count(*) from heartbeats" 2
expect_eq "a heartbeat each minute" 0 $?
expect_eq "heartbeat minutes are consecutive" "$((first + 1))" "$(world_sql 'select max(minute) from heartbeats')"

kill -TERM $daemon
wait $daemon; rc=$?
expect_eq "SIGTERM: clean exit" 0 "$rc"
expect_eq "last record is agent_stop" agent_stop "$(world_sql 'select type from records order by seq desc limit 1')"
expect_eq "records are gapless" "$(world_sql 'select max(seq) from records')" "$(world_sql 'select count(*) from records')"

report=$("$agent" report --config "$world/agent.yaml" --json); rc=$?
expect_eq "report exit" 0 "$rc"
expect_eq "report: tasks done/failed" "1/1" "$(jq -r '"\(.tasks.done)/\(.tasks.failed)"' <<<"$report")"
expect_eq "report: incidents for tmux and disk" "disk,tmux" "$(jq -r '[.incidents[].check]|sort|join(",")' <<<"$report")"
expect_eq "report: measured minutes" "$(world_sql 'select count(*) from heartbeats')" "$(jq '.uptime.up + .uptime.down' <<<"$report")"
expect_match "report: table names the week" "Node test-node, [0-9]{4}-W[0-9]{2}" "$("$agent" report --config "$world/agent.yaml")"
month=$("$agent" report --config "$world/agent.yaml" --month "$(date -u +%Y-%m)" --json)
expect_eq "report --month: the calendar month" "$(date -u +%Y-%m)" "$(jq -r .period.label <<<"$month")"
expect_eq "report --month: same tasks" "1/1" "$(jq -r '"\(.tasks.done)/\(.tasks.failed)"' <<<"$month")"
"$agent" report --config "$world/agent.yaml" --week 2026-W99 >/dev/null 2>&1
expect_eq "report: bad week is a usage error" 3 $?

finish
