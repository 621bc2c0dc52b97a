#!/bin/bash
# spool.max_size: with the receiver away, a warning at 80%; once full, detail records are
# shed (their history stays on the node) and heartbeats are kept; the decision is logged
# and shown by `status`. No seq is skipped, so once the receiver is back everything that
# was spooled arrives exactly once with the chain intact.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_setup

agent_config "http://127.0.0.1:$receiver_port" "spool: {max_size: 1MiB}"
agent_start
spool_fill 2200  # about 1.2 MiB of heartbeats: over the limit, all kept
wait_for 15 bash -c "$(declare -f agent_status_json); FLEET_AGENT='$FLEET_AGENT' pair='$pair' agent_status_json | jq -e '.spool.percent >= 80 and .spool.full' >/dev/null"
expect_eq "status shows the spool full" 0 $?
expect_match "80% warning logged" "spool at [0-9]+% of spool.max_size" "$(cat "$pair/agent.log")"
agent_stop TERM  # agent_stop is detail: shed
expect_eq "agent_stop shed, counted" 1 "$(agent_sql "select value from meta where key='shed_records'")"
expect_eq "its history stays (agent_runs closed)" 1 "$(agent_sql 'select count(*) from agent_runs where stopped is not null')"
expect_eq "no agent_stop record spooled" 0 "$(agent_sql "select count(*) from records where type='agent_stop'")"
expect_eq "every heartbeat spooled" 1 "$(( $(agent_sql "select count(*) from records where type='heartbeat'") >= 2200 ))"
expect_match "shedding logged" "spool full: 1 detail record\(s\) shed" "$(cat "$pair/agent.log")"
agent_start
expect_match "status text says so" "detail records shed so far" "$("$FLEET_AGENT" status --state-dir "$pair/state")"

receiver_start || fail "receiver did not start"
wait_for 60 all_delivered
expect_eq "delivered once the receiver is back" 0 $?
expect_exactly_once "after shedding"
finish
