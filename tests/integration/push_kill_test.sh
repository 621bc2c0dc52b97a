#!/bin/bash
# kill -9 at random moments, of the agent (between signing and sending, mid-batch, while
# the spool grows) and of the receiver (mid-batch, mid-commit): every record still arrives
# exactly once, in order, chain intact, and the spool empties.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_setup

# Small batches, no pacing: many moments when a batch is in flight.
agent_config "http://127.0.0.1:$receiver_port" "  batch_records: 40
  drain_rate: 1000000"
minute=$(( $(date +%s) / 60 - 100000 ))
spool_fill 2000 $minute; minute=$((minute + 2000))
receiver_start || fail "receiver did not start"
agent_start

for round in $(seq 1 15); do
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  agent_stop KILL
  spool_fill 50 $minute; minute=$((minute + 50))
  agent_start
done
echo "agent killed 15 times; $(agent_spooled) records still spooled"
for round in $(seq 1 15); do
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  receiver_stop KILL
  spool_fill 50 $minute; minute=$((minute + 50))
  receiver_start || fail "receiver did not restart (round $round)"
done
echo "receiver killed 15 times"
wait_for 90 all_delivered
expect_eq "everything delivered after 30 kill -9" 0 $?
expect_exactly_once "after kill -9 of both sides"
expect_eq "records made (2,000 + 30 x 50 filled, plus the agent's own)" 1 "$(( $(agent_made) >= 3500 ))"
finish
