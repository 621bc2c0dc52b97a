#!/bin/bash
# kill -9 the daemon at random moments, at least 200 times: the history database is never corrupt,
# no task is counted twice, record seqs stay gapless, every start after a kill says the
# previous stop was not clean, and every minute a run evaluated has its heartbeat: the
# daemon names a minute in status.json (`last_evaluation`, heartbeat "written") only after
# that minute's heartbeat committed, so the minute read just before the kill must be there,
# exactly. Most runs die within a second (around the first evaluation of every check,
# ready); one a minute, up to CRASH_LONG_RUNS (5), starts 5 s before a minute boundary and
# dies 0.4-1 s after it, around the heartbeat of the minute that just ended (written up to
# 0.5 s past the boundary), so that path is killed mid-way too. So the loop lasts at least
# 5 minutes, with more short runs.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
require_root "mounting a tmpfs"
agent=${FLEET_AGENT:?}
iterations=${CRASH_ITERATIONS:-200}
long_runs=${CRASH_LONG_RUNS:-5}
daemon=""
trap '[[ -n "$daemon" ]] && kill -9 $daemon 2>/dev/null; world_down' EXIT
world_up "$(mktemp -d /var/tmp/fleet-crash.XXXXXX)" || { echo "cannot build the test node"; exit 1; }

now_ms() { date +%s%3N; }
sleep_until_ms() {  # sleep_until_ms T: until the wall clock reads T (Unix ms)
  local left=$(($1 - $(now_ms)))
  ((left > 0)) && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}
# The Unix minute the run with pid $1 says it evaluated with its heartbeat committed.
evaluated_minute() {
  jq -r --argjson pid "$1" \
    'select(.pid == $pid and .last_evaluation.heartbeat == "written")
     | .last_evaluation.minute | fromdateiso8601 / 60 | floor' \
    "$world/state/status.json" 2>/dev/null
}
# True once the run with pid $1 has every check's first result (status.json .ready).
run_ready() {
  jq -e --argjson pid "$1" 'select(.pid == $pid and .ready == true)' \
    "$world/state/status.json" >/dev/null 2>&1
}
start_daemon() {
  "$agent" run --config "$world/agent.yaml" 2>>"$world/daemon.log" &
  daemon=$!
}
killed=0
kill_daemon() {
  kill -9 "$daemon"
  wait "$daemon" 2>/dev/null
  daemon=""
  killed=$((killed + 1))
}

evaluated=()   # the minute each run had evaluated when it was killed
long_done=0
long_ticked=0  # long runs whose minute timer's heartbeat was written before the kill
readied=0      # short runs that were ready before the kill
corrupt=0

short_run() {
  start_daemon
  sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
  local m
  m=$(evaluated_minute "$daemon")
  [[ -n "$m" ]] && evaluated+=("$m")
  run_ready "$daemon" && readied=$((readied + 1))
  kill_daemon
}

# Starts about 5 s before the next minute boundary; kills 0.4 to 1 s after it.
long_run() {
  local boundary=$((($(now_ms) / 60000 + 1) * 60000))
  start_daemon
  sleep_until_ms $((boundary - 300))
  local ready=0 after
  run_ready "$daemon" && ready=1
  sleep_until_ms $((boundary + 400 + RANDOM % 600))
  after=$(evaluated_minute "$daemon")
  kill_daemon
  long_done=$((long_done + 1))
  if ((ready == 0)); then
    fail "long run $long_done: not ready 0.3 s before the boundary"
    return
  fi
  if [[ -n "$after" ]]; then
    evaluated+=("$after")
    # The minute it became ready in, which had just ended.
    ((after == boundary / 60000 - 1)) && long_ticked=$((long_ticked + 1))
  fi
  [[ "$(world_sql 'pragma integrity_check')" == ok ]] || corrupt=$((corrupt + 1))
}
# Seconds into the current minute.
second_of_minute() { echo $(($(date +%s) % 60)); }

started=$SECONDS
# Short runs go on past `iterations` until the long runs have had their minute boundaries.
for ((i = 1; i <= iterations || long_done < long_runs; i++)); do
  # A new cron run every few rounds, so tasks are being recorded while we kill.
  if ((i % 7 == 0)); then world_cron ok "2026-01-01T$(printf '%02d' $((i / 7 % 24))):00:00+00:00"; fi
  s=$(second_of_minute)
  if ((long_done < long_runs && s >= 50 && s <= 56)); then
    until (($(second_of_minute) >= 55)); do sleep 0.1; done
    long_run
  else
    short_run
  fi
  if ((i % 25 == 0)); then
    [[ "$(world_sql 'pragma integrity_check')" == ok ]] || corrupt=$((corrupt + 1))
  fi
done
echo "kill loop took $((SECONDS - started)) s"

expect_eq "integrity_check after kills" 0 "$corrupt"
expect_eq "integrity_check at the end" ok "$(world_sql 'pragma integrity_check')"
expect_eq "seq is gapless from 1" "1|$(world_sql 'select count(*) from records')" "$(world_sql 'select min(seq), max(seq) from records')"
expect_eq "no task recorded twice" "$(world_sql 'select count(*) from tasks')" "$(world_sql "select count(*) from records where type='task'")"
expect_eq "no task run counted twice" 0 "$(world_sql "select count(*) from (select json_extract(payload,'$.job') j, json_extract(payload,'$.run_at') r from records where type='task' group by j, r having count(*) > 1)")"
expect_eq "tasks seen" "$(( $(world_sql 'select count(distinct run_at) from tasks') ))" "$(world_sql 'select count(*) from tasks')"
runs=$(world_sql 'select count(*) from agent_runs')
expect_eq "every start after a kill says: previous stop not clean" "$((runs - 1))" "$(world_sql 'select count(*) from agent_runs where clean_previous_stop = 0')"
missing=0
for m in "${evaluated[@]}"; do
  have=$(world_sql "select count(*) from heartbeats where minute = $m")
  ((have == 1)) || { missing=$((missing + 1)); echo "no heartbeat for evaluated minute $m"; }
done
echo "runs killed: $killed; ready when killed (short runs): $readied; evaluated minutes checked: ${#evaluated[@]}; agent_runs rows: $runs;" \
  "long runs: $long_done, $long_ticked of them killed after their minute's heartbeat"
((readied > killed / 4)) || fail "too few short runs were ready when killed ($readied of $killed)"
expect_eq "long runs" "$long_runs" "$long_done"
((long_runs == 0 || long_ticked > 0)) || fail "no long run got as far as its minute timer's heartbeat"
expect_eq "evaluated minutes without their heartbeat" 0 "$missing"
finish
