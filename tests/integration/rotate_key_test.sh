#!/bin/bash
# fleet-agent rotate-key against a real receiver, with the daemon running: killed (kill -9,
# FLEET_TEST_CRASH_AT) at each step of a rotation, the node still pushes and everything it
# makes is acknowledged: before the record with the old key, after it with the new one; the
# daemon restarted mid-rotation finishes it; the next rotation runs clean. The receiver ends
# with the node's keys in order, each taken through its key_rotate record, nothing refused,
# no fork; the state directory keeps no key but the current one once every move is
# acknowledged.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_setup

receiver_start || fail "receiver did not start"
agent_config "http://127.0.0.1:$receiver_port"
agent_start
wait_for 30 all_delivered
expect_eq "the agent's first records are acknowledged" 0 $?

rotate() {  # rotate [CRASH_STEP]: rotate-key's exit status
  FLEET_TEST_CRASH_AT=${1:-} "$FLEET_AGENT" rotate-key --config "$pair/agent.yaml" \
    >>"$pair/rotate.log" 2>&1
  echo $?
}
node_kid() { agent_sql "select value from meta where key='node_kid'"; }
file_kid() { "$FLEET_AGENT" pubkey --state-dir "$pair/state" | sed -n 's/^kid //p'; }
# Records made with whatever key signs now (minutes an hour back, two per round).
round=0
base=$(($(date +%s) / 60 - 120))
more_records() {
  spool_fill 2 $((base + 10 * round))
  round=$((round + 1))
}
no_refusals() {
  expect_eq "$1: nothing set aside by the agent" 0 "$(agent_sql 'select count(*) from refused_records')"
  expect_eq "$1: no fork at the receiver" 0 "$(receiver_sql 'select count(*) from forks')"
}

# 1. Killed after the new key is written, before its record: the old key goes on.
kid0=$(file_kid)
expect_eq "killed after writing node.key.next" 137 "$(rotate next-written)"
expect_eq "... the history names no other key" "" "$(node_kid)"
expect_eq "... node.key is the old key" "$kid0" "$(file_kid)"
more_records
wait_for 30 all_delivered
expect_eq "... the node pushes on with the old key" 0 $?
no_refusals "next-written"

# 2. Killed after the record is committed, before the files move: the new key signs (found
#    by kid in node.key.next). The daemon, killed too and started again, finishes the move.
expect_eq "killed after the key_rotate record" 137 "$(rotate record-committed)"
kid1=$(node_kid)
[[ "$kid1" != "$kid0" && -n "$kid1" ]] || fail "the history names no new kid ($kid1)"
expect_eq "... node.key.next holds it" "1" "$([[ -f $pair/state/node.key.next ]] && echo 1)"
more_records
wait_for 30 all_delivered
expect_eq "... the node pushes with the new key through its record" 0 $?
agent_stop KILL
agent_start
wait_for 10 grep -q "finished the node key's rotation to kid $kid1" "$pair/agent.log"
expect_eq "... the daemon started again finishes the move" 0 $?
expect_eq "... node.key is the new key" "$kid1" "$(file_kid)"
more_records
wait_for 30 all_delivered
expect_eq "... and pushes on" 0 $?
no_refusals "record-committed"

# 3. Killed after the old key is kept, before the rename; 4. after the rename.
for step in kept-old promoted; do
  before=$(node_kid)
  expect_eq "killed at $step" 137 "$(rotate $step)"
  after=$(node_kid)
  [[ "$after" != "$before" ]] || fail "$step: the history still names $before"
  more_records
  wait_for 30 all_delivered
  expect_eq "... the node pushes on with the new key" 0 $?
  no_refusals "$step"
done

# 5. A clean rotation.
expect_eq "rotate-key runs clean" 0 "$(rotate)"
expect_match "it names both kids" "kid $after -> $(node_kid)" "$(tail -n 3 "$pair/rotate.log")"
more_records
wait_for 30 all_delivered
expect_eq "... everything acknowledged" 0 $?
no_refusals "clean"
expect_eq "pubkey shows the current key" "$(node_kid)" "$(file_kid)"

list=$("$FLEET_RECEIVER" nodes list --db "$receiver_db" --json)
expect_eq "the receiver knows the node's five keys, in order, the last current" \
  "5 $(node_kid)" "$(jq -r '.[0] | "\(.keys | length) \(.kid)"' <<<"$list")"
expect_eq "... the first the registered one" "$kid0" "$(jq -r '.[0].keys[0].kid' <<<"$list")"
expect_eq "... the second the one moved to while killed after its record" "$kid1" \
  "$(jq -r '.[0].keys[1].kid' <<<"$list")"
expect_eq "four key_rotate records at the receiver (so far)" 4 \
  "$(receiver_sql "select count(*) from records where node='test-node' and type='key_rotate'")"
expect_eq "every record made is stored once" "$(agent_made)" \
  "$(receiver_sql "select count(*) from records where node='test-node' and epoch=1")"
# check warns when the key is older than node_key.max_age (90 days), naming the command;
# status shows the kid and the age; a rotation makes the warning go.
key_row() { "$FLEET_AGENT" check --config "$pair/agent.yaml" --json | jq -c '.checks[] | select(.name == "node_key")'; }
expect_eq "a fresh key: no node_key row" "" "$(key_row)"
touch -d '100 days ago' "$pair/state/node.key"
expect_match "a key 100 days old: check warns, naming rotate-key" \
  '"status":"warning".*"summary":"node key '"$(node_kid)"' is 100 days old \(more than 90\): rotate it with fleet-agent rotate-key"' \
  "$(key_row)"
expect_match "status shows the kid and the age" "node key: kid $(node_kid), 100 days old" \
  "$("$FLEET_AGENT" status --state-dir "$pair/state")"
expect_eq "status --json too" "$(node_kid) 100" \
  "$(agent_status_json | jq -r '.node_key | "\(.kid) \(.age_days)"')"
printf 'node_key: {max_age: 200d}\n' >>"$pair/agent.yaml"
expect_eq "node_key.max_age: 200d: no warning at 100 days" "" "$(key_row)"
expect_eq "rotated" 0 "$(rotate)"
more_records
wait_for 30 all_delivered
expect_eq "... everything acknowledged" 0 $?
expect_match "status: the new key, 0 days old" "node key: kid $(node_kid), 0 days old" \
  "$("$FLEET_AGENT" status --state-dir "$pair/state")"

wait_for 10 bash -c "! ls '$pair/state' | grep -Eq '^node\.key\.(next|[A-Za-z0-9_-]{11})\$'"
expect_eq "no key file but node.key once every move is acknowledged" 0 $?
finish
