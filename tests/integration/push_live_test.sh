#!/bin/bash
# The figures that pay, end to end: a real agent's own heartbeats, pushed as they are made,
# count at a real receiver as live up minutes. The receiver counts a minute only when it
# arrives after the minute's end, so the agent evaluates a minute just after it ends and
# pushes its heartbeat at once: every heartbeat arrives after its minute and within
# live_within, and `fleet-receiver uptime` counts each of them up and live.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_setup

agent_config "http://127.0.0.1:$receiver_port"
receiver_start || fail "receiver did not start"
agent_start
stored_heartbeats_at_least() { (($(receiver_sql "select count(*) from heartbeats") >= $1)); }
# Two minute ends after the start: up to two minutes and a few seconds.
wait_for 150 stored_heartbeats_at_least 2
expect_eq "the agent's heartbeats reach the receiver" 0 $?
agent_stop TERM

expect_eq "no heartbeat arrived before its minute was over" 0 "$(receiver_sql \
  "select count(*) from heartbeats h join records r using (node, epoch, seq)
   where r.received_at < h.minute + 60")"
expect_eq "each arrived within a minute of its end" 0 "$(receiver_sql \
  "select count(*) from heartbeats h join records r using (node, epoch, seq)
   where r.received_at > h.minute + 120")"
stored=$(receiver_sql "select count(*) from heartbeats where up = 1")
live=0
for month in $(receiver_sql "select distinct strftime('%Y-%m', minute, 'unixepoch') from heartbeats"); do
  report=$("$FLEET_RECEIVER" uptime --db "$receiver_db" --month "$month" --json)
  live=$((live + $(jq '.nodes[]|select(.node=="test-node")|.up_live' <<<"$report")))
done
expect_eq "fleet-receiver uptime counts every heartbeat up and live ($stored stored)" "$stored" "$live"
expect_eq "... and there were some" 1 "$((stored >= 2))"
finish
