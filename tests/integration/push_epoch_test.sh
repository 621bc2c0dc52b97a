#!/bin/bash
# A new epoch when the spool is lost or restored from an old copy. The receiver already
# holds records this spool never made; it says so (forks, or an acknowledgement above
# anything the spool made), and the agent goes on in a new epoch from seq 1 and the
# genesis hash. Nothing the receiver had is overwritten, nothing new is lost, nothing is
# counted twice.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_setup
status_has() { agent_status_json | jq -e "$1" >/dev/null; }
epoch_of_agent() { agent_sql "select value from meta where key='epoch'"; }
received() { receiver_sql "select count(*) from records where node='test-node' and epoch=$1"; }
# Every record of epoch $1 arrived, the spool is empty, and the chain verifies. The last
# seq made is read again on every try: a minute boundary meanwhile adds a heartbeat.
epoch_acknowledged() {  # epoch_acknowledged EPOCH
  local made
  made=$(($(agent_sql "select value from meta where key='next_seq'") - 1))
  [[ $(receiver_sql "select ack_seq from watermarks where node='test-node' and epoch=$1") == "$made" &&
     $(agent_sql 'select count(*) from records') == 0 ]]
}
epoch_complete() {  # epoch_complete WHAT EPOCH
  wait_for 30 epoch_acknowledged "$2"
  expect_eq "$1: epoch $2 acknowledged up to its last seq ($(($(agent_sql "select value from meta where key='next_seq'") - 1)))" 0 $?
  receiver_sql "select jws from records where node='test-node' and epoch=$2 order by seq" >"$pair/e$2.jws"
  "$FLEET_AGENT" verify "$pair/e$2.jws" --jwk "$pair/node.jwk" >/dev/null 2>&1
  expect_eq "$1: epoch $2 chain verifies from seq 1" 0 $?
}

agent_config "http://127.0.0.1:$receiver_port"
receiver_start || fail "receiver did not start"
agent_start
minute=$(( $(date +%s) / 60 - 50000 ))
spool_fill 300 $minute; minute=$((minute + 300))
wait_for 30 all_delivered
expect_eq "epoch 1 delivered" 0 $?

# 1. The spool is lost (history.db deleted; the key and the rest of the state survive).
# What epoch 1 holds is counted once its agent stopped (agent_stop and a heartbeat at a
# minute boundary may still arrive until then).
agent_stop TERM
wait_for 10 all_delivered
before=$(received 1)
rm -f "$pair/state"/history.db*
agent_start
lost_epoch=$(epoch_of_agent)
spool_fill 100 $minute; minute=$((minute + 100))
expect_eq "spool lost: the agent starts an epoch no earlier one can hold (the Unix minute)" 1 \
  "$((lost_epoch >= $(date +%s) / 60 - 1))"
expect_match "spool lost: logged" "the spool was lost; records start again in epoch $lost_epoch" "$(cat "$pair/agent.log")"
epoch_complete "spool lost" "$lost_epoch"
expect_eq "spool lost: all 100 filled minutes in the new epoch" 1 "$(($(received "$lost_epoch") >= 101))"
expect_eq "spool lost: epoch 1 at the receiver untouched" "$before" "$(received 1)"
expect_eq "spool lost: no clash, no fork" 0 "$(receiver_sql "select count(*) from forks")"

# 2. The spool restored from an old copy: it holds an old seq of the current epoch. The
# receiver's first reply shows it (forks, or an acknowledgement beyond anything this copy
# made); records made before that reply are kept aside at the receiver as forks.
agent_stop TERM
cp "$pair/state/history.db" "$pair/old-copy.db"
agent_start
spool_fill 200 $minute; minute=$((minute + 200))
epoch_complete "before the restore" "$lost_epoch"
agent_stop TERM
wait_for 10 all_delivered
before2=$(received "$lost_epoch")
rm -f "$pair/state"/history.db*
cp "$pair/old-copy.db" "$pair/state/history.db"
agent_start
wait_for 30 bash -c "(( \$(sqlite3 -readonly '$pair/state/history.db' \"select value from meta where key='epoch'\") > $lost_epoch ))"
expect_eq "restored from an old copy: the agent moved to a later epoch" 0 $?
restored_epoch=$(epoch_of_agent)
expect_match "restored: logged" "new records go to epoch $restored_epoch" "$(cat "$pair/agent.log")"
spool_fill 50 $minute; minute=$((minute + 50))
epoch_complete "restored from an old copy" "$restored_epoch"
expect_eq "restored: the 50 filled minutes in the new epoch" 1 "$(($(received "$restored_epoch") >= 50))"
expect_eq "restored: epoch $lost_epoch at the receiver untouched" "$before2" "$(received "$lost_epoch")"
expect_eq "restored: the clashing records kept aside as forks" 1 "$(($(receiver_sql "select count(*) from forks") >= 1))"
finish
