#!/bin/bash
# A receiver that misbehaves (through a scripted proxy in front of the real one): 500, 503
# after storing, 200 with garbage, a truncated reply, a dropped connection, 429 with
# Retry-After, a reply slower than the agent's timeout, 401. The agent retries what is
# worth retrying with backoff, honours Retry-After, pauses slowly after 401 with one clear
# log line, and loses nothing: every record arrives exactly once. Then SIGTERM in the
# middle of a 600 s Retry-After: the agent stops within a second.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_setup

proxy_port=$(free_port)
plan="500,503-after,garbage,truncated,drop,429:3,slow:6,401,pass"
python3 "$here/lib/chaos_proxy.py" --listen "$proxy_port" --upstream "http://127.0.0.1:$receiver_port" \
  --plan "$plan" --log "$pair/proxy.log" >"$pair/proxy.out" 2>&1 &
proxy_pid=$!
wait_for 10 grep -q listening "$pair/proxy.out" || fail "proxy did not start"
receiver_start || fail "receiver did not start"
agent_config "http://127.0.0.1:$proxy_port" "  batch_records: 200
  timeout: 3s
  drain_rate: 1000000"
spool_fill 1000
agent_start
wait_for 120 all_delivered
expect_eq "everything delivered through the faults" 0 $?
expect_exactly_once "through $plan"

# What the proxy saw: "<time> <fault> <bytes>" per request.
mapfile -t seen < <(awk '{print $2}' "$pair/proxy.log")
expect_eq "every planned fault was met, in order" "$plan" "$(IFS=,; echo "${seen[*]:0:9}")"
at() { awk -v n="$1" 'NR == n {print $1}' "$pair/proxy.log"; }
gap_ms() { awk -v a="$(at "$1")" -v b="$(at "$2")" 'BEGIN {printf "%d", (b - a) * 1000}'; }
expect_eq "after 429 Retry-After: 3 the next attempt waits >= 3 s ($(gap_ms 6 7) ms)" 1 "$(( $(gap_ms 6 7) >= 2950 ))"
expect_eq "after 401 the retry waits refused_retry 3 s ($(gap_ms 8 9) ms)" 1 "$(( $(gap_ms 8 9) >= 2950 ))"
expect_eq "a refused batch is logged once, clearly" 1 \
  "$(grep -c 'the receiver refused the records (HTTP 401' "$pair/agent.log")"
expect_match "garbage reply logged as unusable" "unusable reply: reply is not JSON" "$(cat "$pair/agent.log")"
dups=$(grep -c . "$pair/proxy.log")
echo "proxy saw $dups requests"

# SIGTERM in the middle of a long Retry-After: the agent stops at once, it does not sleep
# the wait out. A fresh proxy on the same port answers 429 with Retry-After: 600.
agent_stop TERM
kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null
python3 "$here/lib/chaos_proxy.py" --listen "$proxy_port" --upstream "http://127.0.0.1:$receiver_port" \
  --plan "429:600" --log "$pair/proxy-429.log" >"$pair/proxy-429.out" 2>&1 &
proxy_pid=$!
wait_for 10 grep -q listening "$pair/proxy-429.out" || fail "second proxy did not start"
spool_fill 10
agent_start
status_has() { agent_status_json | jq -e "$1" >/dev/null; }
# The observable: the agent took the 429 and set its next attempt about 600 s ahead.
wait_for 30 status_has '.push.last_error != null and (.push.last_error | test("HTTP 429"))
  and (.push.next_attempt | fromdateiso8601) - now > 500'
expect_eq "the agent waits out Retry-After: 600 (next attempt ~600 s ahead)" 0 $?
started=$(date +%s%N)
kill -TERM "$agent_pid"
wait "$agent_pid"
rc=$?
stopped_ms=$((($(date +%s%N) - started) / 1000000))
agent_pid=
expect_eq "SIGTERM during the wait: clean exit" 0 "$rc"
expect_eq "... within a second (${stopped_ms} ms), not after the wait" 1 "$((stopped_ms < 1000))"
expect_eq "... and no second request during the wait" 1 "$(grep -c . "$pair/proxy-429.log")"
finish
