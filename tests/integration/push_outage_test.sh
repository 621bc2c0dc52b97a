#!/bin/bash
# The receiver away for days, then back (a compressed clock: fleet-spool-fill makes 5,000
# minutes of signed heartbeats while it is down): the agent keeps retrying without giving
# up, says so in `status`, and once the receiver is back every record arrives exactly
# once, in order, chain intact, at no more than upstream.drain_rate records a second.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_setup
status_has() { agent_status_json | jq -e "$1" >/dev/null; }

agent_config "http://127.0.0.1:$receiver_port/" "  drain_rate: 1000"
# The check runs once a minute here: every push state this test reads from status.json
# reaches it through the daemon's own refresh (at most 5 s after the last write).
sed -i 's/interval: 1s/interval: 60s/' "$pair/agent.yaml"
agent_start
spool_fill 5000
wait_for 15 status_has '.push.failures_in_a_row >= 3'
expect_eq "receiver down: the agent keeps retrying" 0 $?
expect_eq "push state while down" retrying "$("$FLEET_AGENT" status --state-dir "$pair/state" --json | jq -r .push.state)"
expect_match "the status names the error" "Couldn't connect|Connection refused" \
  "$("$FLEET_AGENT" status --state-dir "$pair/state")"
expect_eq "nothing left the spool" 1 "$(( $(agent_spooled) >= 5000 ))"
expect_eq "one log line for the repeating error" 1 "$(grep -c 'push: .*Couldn.t connect' "$pair/agent.log")"

started=$(date +%s%N)
receiver_start || fail "receiver did not start"
wait_for 60 all_delivered
expect_eq "backlog delivered" 0 $?
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "drained $(agent_made) records in ${elapsed_ms} ms"
expect_eq "drain bounded by drain_rate 1000/s (>= 4.5 s for 5,000)" 1 "$((elapsed_ms >= 4500))"
expect_exactly_once "after a long outage"
# status.json is rewritten at most 5 s after anything changes; 20 s leaves room for a
# heartbeat pushed meanwhile to a receiver slowed by other tests on the machine.
wait_for 20 status_has '.push.state == "idle"'
idle=$?
expect_eq "push state after draining: idle (status.json is rewritten every few seconds)" 0 "$idle"
((idle == 0)) || "$FLEET_AGENT" status --state-dir "$pair/state" --json | jq -c '{updated, push}'
expect_match "recovery logged" "push: recovered after" "$(cat "$pair/agent.log")"

# A clean restart: agent_stop and agent_start follow, in the same epoch.
agent_stop TERM
agent_start
agent_starts_received() { [[ $(receiver_sql "select count(*) from records where type='agent_start'") == 2 ]]; }
wait_for 20 agent_starts_received
expect_eq "second agent_start delivered" 0 $?
wait_for 20 all_delivered
expect_exactly_once "after a restart"
finish
