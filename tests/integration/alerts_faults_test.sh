#!/usr/bin/env bash
# Alerting when the chat APIs misbehave, against the fake chat server on loopback: a 429
# with retry_after is honoured (the next try waits as long as asked), a 5xx and garbage are
# retried, nothing is sent twice; kill -9 while a message is in flight, then a restart:
# the message arrives once, and a message already taken is never sent again after another
# restart; a refused token (401) and a second poller on the bot token (409) show in
# `fleet-agent status` and `fleet-agent check`, with no tight loop; `alerts test` says what
# each channel answered. The checks and the heartbeats go on meanwhile.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
source "$here/lib/fake_chat.sh"
require_root "mounting a tmpfs"
command -v jq >/dev/null || { echo "SKIPPED: jq is not installed"; exit 77; }
agent=${FLEET_AGENT:?}
daemon=
trap 'kill -9 $daemon $rival 2>/dev/null; fake_chat_stop; world_down' EXIT
rival=
world_up "$(mktemp -d /var/tmp/fleet-alert-faults.XXXXXX)" || { echo "cannot build the test node"; exit 1; }
fake_chat_start "$world" --telegram-token 42:T0K-secret --discord-webhook 77/h00k-secret || exit 1

printf '42:T0K-secret\n' >"$world/telegram.token"
printf 'https://discord.com/api/webhooks/77/h00k-secret\n' >"$world/discord.url"
chmod 600 "$world/telegram.token" "$world/discord.url"
cp "$world/agent.yaml" "$world/base.yaml"
cat >>"$world/agent.yaml" <<YAML
alerts:
  telegram: {token_file: $world/telegram.token, chat_id: "-100", ackers: [123], api_base: "$FAKE_CHAT_URL"}
  discord: {webhook_url_file: $world/discord.url, api_base: "$FAKE_CHAT_URL"}
  confirm: 1s
YAML

state=(--state-dir "$world/state")
start_agent() {
  "$agent" run --config "$world/agent.yaml" 2>>"$world/daemon.log" &
  daemon=$!
  wait_for 15 status_has '.ready == true' || fail "the daemon did not become ready"
}
status_has() { "$agent" status "${state[@]}" --json 2>/dev/null | jq -e "$1" >/dev/null; }
calls() { fake_chat_calls "$1"; }
text_of() { curl -sS --max-time 10 "$FAKE_CHAT_URL/_fake/calls" | jq -r "$1"; }
count_is() { [[ "$(calls "[.[] | select($1)] | length")" == "$2" ]]; }
count_at_least() { (("$(calls "[.[] | select($1)] | length")" >= $2)); }
sends='.path | endswith("/sendMessage")'
posts='.method == "POST" and (.path | test("^/api/webhooks/77/"))'

# alerts test: every channel answers, one line each.
out=$("$agent" alerts test --config "$world/agent.yaml" 2>&1)
expect_eq "alerts test: exit 0 when every channel took it" 0 $?
expect_match "... telegram sent" "telegram: sent \(message [0-9]+\)" "$out"
expect_match "... discord sent" "discord: sent \(message [0-9]+\)" "$out"
expect_match "the test message says it is one" '^<b>\[test\]' "$(text_of "[.[] | select($sends)][0].body.text")"
fake_chat_reset

# Telegram: a 429 with retry_after 3, then a reply that is not JSON; Discord: 503, then 500.
# Each retried, each delivered once.
fake_chat_script '[{"match": "sendMessage", "status": 429, "body": {"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}}},
                   {"match": "sendMessage", "garbage": true},
                   {"match": "webhooks/77", "status": 503}, {"match": "webhooks/77", "status": 500}]'
start_agent
tmux -S "$world/tmux/sock" kill-session -t BURN2
wait_for 30 count_is "$sends" 3
expect_eq "Telegram: the 429, the garbage, then the message" 0 $?
gap=$(calls "[.[] | select($sends) | .time] | .[1] - .[0]")
expect_eq "the retry waited retry_after (3 s) or more" true "$(jq -n "$gap >= 2.9")"
wait_for 30 count_is "$posts" 3
expect_eq "Discord: 503, 500, then the message" 0 $?
wait_for 10 status_has '[.alerts.channels[] | select(.state == "ok")] | length == 2'
expect_eq "both channels ok again in status" 0 $?
wait_for 5 status_has '.alerts.channels[] | select(.name == "telegram") | .sent == 1'
expect_eq "... each message taken once" 0 $?

# kill -9 with a message in flight: after the restart it arrives, once.
fake_chat_reset
fake_chat_script '{"match": "sendMessage", "hang": 20}'
tmux -S "$world/tmux/sock" new-session -d -s BURN2 'sleep 100000'
wait_for 20 count_is "$sends" 1  # the resolved notice, held by the fake
expect_eq "a message in flight (the fake holds it)" 0 $?
kill -9 $daemon
wait $daemon 2>/dev/null
fake_chat_reset
start_agent
wait_for 20 count_is "$sends" 1
expect_eq "after kill -9 and a restart the message in flight is sent" 0 $?
expect_match "... the resolved notice" "^<b>RESOLVED: tmux" "$(text_of "[.[] | select($sends)][0].body.text")"
wait_for 10 status_has '.alerts.channels[] | select(.name == "telegram") | .sent >= 1'
"$agent" alerts "${state[@]}" --json | jq -e '[.channels[] | .pending] | add == 0' >/dev/null
expect_eq "nothing waits in the outbox" 0 $?
# Another restart: nothing taken before is sent again.
kill -TERM $daemon
wait $daemon
fake_chat_reset
start_agent
before=$(calls "[.[] | select(($sends) or ($posts))] | length")
wait_for 10 status_has '.checks | length == 4'
"$agent" alerts "${state[@]}" --json | jq -e '[.channels[] | .pending] | add == 0' >/dev/null
expect_eq "after a clean restart the outbox is empty" 0 $?
expect_eq "... and no message was sent again" "$before" "$(calls "[.[] | select(($sends) or ($posts))] | length")"

# A second getUpdates poller on the same token: 409, shown, retried slowly.
(for i in $(seq 1 200); do
   curl -sS --max-time 30 -H 'Content-Type: application/json' -d '{"timeout": 25}' \
     "$FAKE_CHAT_URL/bot42:T0K-secret/getUpdates" >/dev/null 2>&1
 done) &
rival=$!
wait_for 40 status_has '.alerts.poller.state == "conflict"'
expect_eq "a rival poller: the agent's poller says conflict" 0 $?
check=$("$agent" check --config "$world/agent.yaml" 2>&1)
expect_match "check shows the conflict" "WARNING +alerts +telegram button poller conflict" "$check"
polls_then=$(calls '[.[] | select(.path | endswith("/getUpdates"))] | length')
conflict_at=$SECONDS
wait_for 30 bash -c "((SECONDS - $conflict_at >= 20))"
agent_polls=$(calls '[.[] | select((.path | endswith("/getUpdates")) and (.headers["User-Agent"] // "" | startswith("fleet-agent")))] | length')
((agent_polls <= 3)) || fail "the agent polled $agent_polls times in a conflict: a tight loop"
kill $rival 2>/dev/null
wait $rival 2>/dev/null
rival=

# A token Telegram refuses (401): refused, shown in status and check, retried slowly.
kill -TERM $daemon
wait $daemon
printf '42:WRONG-token\n' >"$world/telegram.token"
fake_chat_reset
start_agent
tmux -S "$world/tmux/sock" kill-session -t BURN2
wait_for 20 status_has '.alerts.channels[] | select(.name == "telegram") | .state == "refused"'
expect_eq "a refused token: the channel says refused" 0 $?
wait_for 10 count_is "$posts" 1
expect_eq "... and Discord is told all the same" 0 $?
table=$("$agent" status "${state[@]}")
expect_match "status says the channel refuses alerts" "telegram refuses alerts: .*401" "$table"
check=$("$agent" check --config "$world/agent.yaml" 2>&1)
check_rc=$?
expect_match "check shows it as a WARNING row" "WARNING +alerts +telegram refuses alerts" "$check"
expect_eq "check's exit code counts it (CRITICAL for tmux wins)" 2 $check_rc
tries=$(calls "[.[] | select($sends)] | length")
((tries <= 2)) || fail "the refused channel was tried $tries times: a tight loop"
expect_eq "the refused message waits in the outbox, kept" 1 \
  "$("$agent" alerts "${state[@]}" --json | jq '[.channels[] | select(.name == "telegram") | .pending] | add')"

# Through all of it, the node's own work went on.
expect_eq "heartbeats or checks never stopped: the daemon is alive" 0 "$(kill -0 $daemon; echo $?)"
if grep -q 'T0K-secret\|h00k-secret\|WRONG-token' "$world/daemon.log"; then
  fail "a secret is in the daemon's log"
else
  pass "no secret in the daemon's log"
fi
kill -TERM $daemon
wait $daemon
finish
