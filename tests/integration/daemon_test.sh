#!/bin/bash
# `fleet-agent run` against a real node: start it, change the world (stop a tmux session
# across a minute boundary, fill a tmpfs, mark a cron job failed), and see heartbeats (a
# down one during the outage), tasks and incidents appear in the history, then in `report`
# and `status` (each result's age, the evaluated minute, the history's size); SIGHUP with a
# broken config keeps the old one, a good one keeps history and counters (same run, seq
# and task count go on); SIGTERM stops cleanly with agent_stop.
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
# A heartbeat covers a minute that has ended: the first is the minute of ready's, written
# just after that minute's end (the receiver does not count a minute that arrives before).
wait_for 75 sql_at_least 'select count(*) from heartbeats' 1
expect_eq "the first heartbeat: up, written after its minute ended, within 10 s" "1|1|1" \
  "$(world_sql 'select count(*), sum(up), t >= minute * 60 + 60 and t <= minute * 60 + 70 from heartbeats')"
expect_eq "the finished cron run is a task" "1" "$(world_sql "select count(*) from tasks where ok=1")"

# status: each check's last result with its age, the minute evaluated, the history's size.
hb_count=$(world_sql 'select count(*) from heartbeats')
hb_last=$(world_sql 'select max(minute) from heartbeats')
st=$("$agent" status --state-dir "$world/state" --json)
hb_after=$(world_sql 'select count(*) from heartbeats')
expect_eq "status: every check's result has its time, under 10 s old" 4 \
  "$(jq '[.checks[]|select(.checked_at != null and .age_seconds < 10)]|length' <<<"$st")"
evaluated=$(jq '.last_evaluation.minute | fromdateiso8601 / 60 | floor' <<<"$st")
expect_eq "status: the evaluated minute is the latest, its heartbeat written" "1|1|written" \
  "$(world_sql "select count(*), $evaluated >= $hb_last from heartbeats where minute = $evaluated")|$(jq -r .last_evaluation.heartbeat <<<"$st")"
heartbeats=$(jq .history.heartbeats <<<"$st")
((heartbeats >= $hb_count && heartbeats <= hb_after)) ||
  fail "status: history.heartbeats $heartbeats, the table had $hb_count to $hb_after"
expect_eq "status: history size from its tables (tasks incidents starts)" "1 0 1" \
  "$(jq -r '.history|"\(.tasks) \(.incidents) \(.agent_starts)"' <<<"$st")"
table=$("$agent" status --state-dir "$world/state")
expect_match "status table: a row per check with its age" "ok +tmux +[0-9]+s ago +" "$table"
expect_match "status table: the history's size apart from the spool" \
  "history: [0-9]+ heartbeats \(.*\), 1 tasks \(0 failed\), 0 incidents \(0 open\), 1 agent starts; history.db [0-9.]+ [KM]iB.*spool: [0-9]+ records awaiting" \
  "$table"

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

# The outage lasts across a minute boundary: that minute's heartbeat says down.
wait_for 75 sql_at_least "select count(*) from heartbeats where up = 0 and json_extract(checks, '$.tmux') = 'critical'" 1
expect_eq "a heartbeat during the tmux outage: up=false, tmux critical" 0 $?
expect_eq "a heartbeat each minute, consecutive" "$(world_sql 'select max(minute) - min(minute) + 1 from heartbeats')" \
  "$(world_sql 'select count(*) from heartbeats')"

tmux -S "$world/tmux/sock" new-session -d -s BURN2 'sleep 100000'
wait_for 10 sql_is "select count(*) from incidents where check_name='tmux' and closed is not null" 1
expect_eq "tmux recovered: incident closed" 0 $?

# SIGHUP with a broken config: refused, still running the old one.
seq_before=$(world_sql 'select max(seq) from records')
tasks_before=$(world_sql 'select count(*) from tasks')
cp "$world/agent.yaml" "$world/good.yaml"
sed -i "s/expect: \[BURN, BURN2, FORGE\]/expcet: [BURN]/" "$world/agent.yaml"
kill -HUP $daemon
wait_for 10 grep -q "reload refused" "$world/daemon.log"
expect_eq "the broken reload is refused, saying so" 0 $?
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

# History and counters survive the reloads: the same run goes on.
world_cron ok "$(date -u -d "-1 min" +%Y-%m-%dT%H:%M:%S+00:00)"
wait_for 10 sql_is "select count(*) from tasks" "$((tasks_before + 1))"
expect_eq "after the reloads a new cron run is one more task, the old ones not recounted" 0 $?
expect_eq "no second agent_start (record, run)" "1|1" \
  "$(world_sql "select (select count(*) from records where type = 'agent_start'), (select count(*) from agent_runs)")"
expect_eq "seq goes on, gapless" "1|$(world_sql 'select count(*) from records')" \
  "$(world_sql 'select min(seq), max(seq) from records')"
expect_eq "seq grew past the pre-reload records" 1 "$(world_sql "select max(seq) > $seq_before from records")"
expect_eq "the disk incident stays the one open incident" "1|1" \
  "$(world_sql "select count(*), sum(closed is null) from incidents where check_name = 'disk'")"
expect_eq "status: the history's task count after the reloads" "$((tasks_before + 1))" \
  "$("$agent" status --state-dir "$world/state" --json | jq .history.tasks)"

kill -TERM $daemon
wait $daemon; rc=$?
expect_eq "SIGTERM: clean exit" 0 "$rc"
expect_eq "last record is agent_stop" agent_stop "$(world_sql 'select type from records order by seq desc limit 1')"
expect_eq "records are gapless" "$(world_sql 'select max(seq) from records')" "$(world_sql 'select count(*) from records')"

report=$("$agent" report --config "$world/agent.yaml" --json); rc=$?
expect_eq "report exit" 0 "$rc"
expect_eq "report: tasks done/failed" "2/1" "$(jq -r '"\(.tasks.done)/\(.tasks.failed)"' <<<"$report")"
expect_eq "report: incidents for tmux and disk" "disk,tmux" "$(jq -r '[.incidents[].check]|sort|join(",")' <<<"$report")"
expect_eq "report: measured minutes" "$(world_sql 'select count(*) from heartbeats')" "$(jq '.uptime.up + .uptime.down' <<<"$report")"
expect_match "report: table names the week" "Node test-node, [0-9]{4}-W[0-9]{2}" "$("$agent" report --config "$world/agent.yaml")"
month=$("$agent" report --config "$world/agent.yaml" --month "$(date -u +%Y-%m)" --json)
expect_eq "report --month: the calendar month" "$(date -u +%Y-%m)" "$(jq -r .period.label <<<"$month")"
expect_eq "report --month: same tasks" "2/1" "$(jq -r '"\(.tasks.done)/\(.tasks.failed)"' <<<"$month")"
"$agent" report --config "$world/agent.yaml" --week 2026-W99 >/dev/null 2>&1
expect_eq "report: bad week is a usage error" 3 $?

finish
