#!/bin/bash
# kill -9 the daemon at random moments, 200 times: the history database is never corrupt,
# no task is counted twice, record seqs stay gapless, every start after a kill says the
# previous stop was not clean, and every minute in which a run had evaluated the node
# (status.json said ready, which is written after the heartbeat commits) has its heartbeat.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
require_root "mounting a tmpfs"
agent=${FLEET_AGENT:?}
iterations=${CRASH_ITERATIONS:-200}
daemon=""
trap '[[ -n "$daemon" ]] && kill -9 $daemon 2>/dev/null; world_down' EXIT
world_up "$(mktemp -d /var/tmp/fleet-crash.XXXXXX)" || { echo "cannot build the test node"; exit 1; }

ready_minutes=()
corrupt=0
for ((i = 1; i <= iterations; i++)); do
  # A new cron run every few rounds, so tasks are being recorded while we kill.
  if ((i % 7 == 0)); then world_cron ok "2026-01-01T$(printf '%02d' $((i / 7 % 24))):00:00+00:00"; fi
  "$agent" run --config "$world/agent.yaml" 2>>"$world/daemon.log" &
  daemon=$!
  sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
  if jq -e --argjson pid "$daemon" '.ready and .pid == $pid' "$world/state/status.json" >/dev/null 2>&1; then
    ready_minutes+=($(($(date +%s) / 60)))
  fi
  kill -9 "$daemon"
  wait "$daemon" 2>/dev/null
  daemon=""
  if ((i % 25 == 0)); then
    [[ "$(world_sql 'pragma integrity_check')" == ok ]] || corrupt=$((corrupt + 1))
  fi
done

expect_eq "integrity_check after kills" 0 "$corrupt"
expect_eq "integrity_check at the end" ok "$(world_sql 'pragma integrity_check')"
expect_eq "seq is gapless from 1" "1|$(world_sql 'select count(*) from records')" "$(world_sql 'select min(seq), max(seq) from records')"
expect_eq "no task recorded twice" "$(world_sql 'select count(*) from tasks')" "$(world_sql "select count(*) from records where type='task'")"
expect_eq "no task run counted twice" 0 "$(world_sql "select count(*) from (select json_extract(payload,'$.job') j, json_extract(payload,'$.run_at') r from records where type='task' group by j, r having count(*) > 1)")"
expect_eq "tasks seen" "$(( $(world_sql 'select count(distinct run_at) from tasks') ))" "$(world_sql 'select count(*) from tasks')"
runs=$(world_sql 'select count(*) from agent_runs')
expect_eq "every start after a kill says: previous stop not clean" "$((runs - 1))" "$(world_sql 'select count(*) from agent_runs where clean_previous_stop = 0')"
missing=0
for m in "${ready_minutes[@]}"; do
  have=$(world_sql "select count(*) from heartbeats where minute in ($m, $((m - 1)))")
  ((have > 0)) || missing=$((missing + 1))
done
echo "runs that reached ready: ${#ready_minutes[@]} of $iterations; agent_runs rows: $runs"
((${#ready_minutes[@]} > iterations / 4)) || fail "too few runs reached ready (${#ready_minutes[@]})"
expect_eq "evaluated minutes without a heartbeat" 0 "$missing"
finish
