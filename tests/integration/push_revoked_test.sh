#!/bin/bash
# A node revoked while its spool holds records from both sides of the revocation time: the
# records it signed before still arrive and are acknowledged (an honest node that is
# retired loses nothing it earned); those signed after are refused 403 with the reason,
# which the agent logs once (not at every retry), shows in `status`, and its spool keeps
# them, retrying slowly. `operators revoke` reaches the same node through its operator.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_setup
status_has() { agent_status_json | jq -e "$1" >/dev/null; }

# 30 minutes of heartbeats an hour ago (minute m is signed at m:01), revoked at the start of
# the 21st: 20 were signed before, 10 after, and what the daemon makes now is after too.
first=$(( $(date +%s) / 60 - 60 ))
spool_fill 30 "$first"
revoked_at=$(date -u -d "@$(( (first + 20) * 60 ))" +%Y-%m-%dT%H:%M:%SZ)
out=$("$FLEET_RECEIVER" nodes revoke --db "$receiver_db" --node test-node --at "$revoked_at" \
  --reason "hardware returned to the provider")
expect_eq "nodes revoke --at" 0 $?
receiver_start || fail "receiver did not start"
agent_config "http://127.0.0.1:$receiver_port"
agent_start

wait_for 30 status_has '.push.state == "revoked" and .push.failures_in_a_row >= 3'
expect_eq "the agent is refused, and keeps retrying slowly" 0 $?
expect_eq "what was signed before the revocation is acknowledged" 20 "$(receiver_ack)"
expect_eq "... and nothing after it is stored" 20 \
  "$(receiver_sql "select count(*) from records where node='test-node'")"
expect_eq "the spool keeps every record the receiver did not take" $(( $(agent_made) - 20 )) \
  "$(agent_spooled)"
expect_eq "nothing was set aside for good" 0 "$(agent_sql 'select count(*) from refused_records')"
reason="node test-node is revoked since $revoked_at \\(hardware returned to the provider\\)"
expect_match "status --json says why" "$reason" "$(agent_status_json | jq -r .push.last_error)"
expect_match "fleet-agent status says revoked, and why" "push: revoked to .*$reason" \
  "$("$FLEET_AGENT" status --state-dir "$pair/state")"
expect_eq "the agent logged the reason once, though it retried" 1 \
  "$(grep -c 'hardware returned to the provider' "$pair/agent.log")"

# The operator leaves too: nothing changes for the node (revoked already, first time kept).
out=$("$FLEET_RECEIVER" operators revoke --db "$receiver_db" --id op-1 --reason "left")
expect_match "operators revoke: the node was revoked already" "0 node\\(s\\) revoked now" "$out"
expect_eq "the node keeps its own revocation" "$revoked_at" \
  "$("$FLEET_RECEIVER" nodes list --db "$receiver_db" --json | jq -r '.[0].revoked_at')"
finish
