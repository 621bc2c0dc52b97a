#!/usr/bin/env bash
# The receiver alerting, end to end: a real agent on a real node (tmux, tmpfs) pushes to a
# real fleet-receiver serving with --alerts pointed at the fake chat server on loopback
# (fakes/fake_chat.py). A tmux session killed on the node: one message at the operator's
# Telegram chat and Discord webhook (after confirm) naming the node and the check, with an
# Acknowledge button numbered by the receiver; a press from a user not in ackers is refused, a
# press from an acker acknowledges (the messages edited, `fleet-receiver alerts` shows it);
# the statement then counts the alert answered. The agent killed: after silent_after a
# "silent" alert at the operator's chat and the foundation's; the agent started again: the
# silent alert resolved. `fleet-receiver ack` refuses what it cannot acknowledge. With
# FLEET_RECEIVER_STORE=postgres (integration.receiver_alerts_test.pg) a second receiver
# serves the same database: one works, one polls, and every message is sent once. No secret
# in any log.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
source "$here/lib/fake_chat.sh"
source "$here/lib/receiver_store.sh"
require_root "mounting a tmpfs"
for tool in jq curl python3 sqlite3; do
  command -v $tool >/dev/null || { echo "SKIPPED: $tool is not installed"; exit 77; }
done
agent=${FLEET_AGENT:?}
receiver=${FLEET_RECEIVER:?}
daemon= serve_a= serve_b=
cleanup() {
  for pid in $daemon $serve_a $serve_b; do
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  fake_chat_stop
  receiver_store_down
  world_down
}
trap cleanup EXIT
world_up "$(mktemp -d /var/tmp/fleet-ralerts.XXXXXX)" || { echo "cannot build the test node"; exit 1; }
receiver_store_up "$world" || { echo "cannot set up the receiver's database"; exit 1; }
fake_chat_start "$world" --telegram-token 42:T0K-secret --discord-webhook 77/h00k-secret || exit 1
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The registry: the node, its operator, the operator's channels.
"$agent" keygen --state-dir "$world/state" >/dev/null
"$agent" pubkey --jwk --state-dir "$world/state" >"$world/node.jwk"
"$receiver" nodes add --db "$receiver_db" --node test-node --operator op-7 --jwk "$world/node.jwk" >/dev/null
"$receiver" operators add --db "$receiver_db" --id op-7 --name Ada --since 2026-01-01 >/dev/null
printf 'https://discord.com/api/webhooks/77/h00k-secret\n' >"$world/op7-discord.url"
out=$("$receiver" operators channels --db "$receiver_db" --id op-7 --telegram-chat -100 \
  --ackers 123 --discord-webhook-file "$world/op7-discord.url" 2>&1)
expect_eq "operators channels: set" "operator op-7: telegram -100 (ackers 123), discord: set" "$out"
expect_match "operators list: the webhook shown as set, never its URL" 'telegram: -100 ackers \[123\]	discord: set$' \
  "$("$receiver" operators list --db "$receiver_db")"

# The receiver's alerting: its bot, the fake as every API, the foundation's chat.
printf '42:T0K-secret\n' >"$world/telegram.token"
chmod 600 "$world/telegram.token"
cat >"$world/alerts.yaml" <<YAML
telegram: {token_file: $world/telegram.token, api_base: "$FAKE_CHAT_URL", poll: true}
discord: {api_base: "$FAKE_CHAT_URL"}
foundation:
  telegram: {chat_id: "-999", ackers: [1]}
silent_after: 1m
confirm: 2s
repeat: 30m
YAML
port_a=$(free_port)
serve() {  # serve PORT LOG
  "$receiver" serve --listen "127.0.0.1:$1" --db "$receiver_db" --alerts "$world/alerts.yaml" >>"$2" 2>&1 &
}
serve "$port_a" "$world/receiver-a.log"
serve_a=$!
wait_for 10 curl -sf "http://127.0.0.1:$port_a/healthz" -o /dev/null
expect_eq "receiver A serves with --alerts" 0 $?
two=0
if [[ ${FLEET_RECEIVER_STORE:-sqlite} == postgres ]]; then
  two=1
  port_b=$(free_port)
  serve "$port_b" "$world/receiver-b.log"
  serve_b=$!
  wait_for 10 curl -sf "http://127.0.0.1:$port_b/healthz" -o /dev/null
  expect_eq "receiver B serves the same database" 0 $?
fi
cat >>"$world/agent.yaml" <<YAML
upstream: {url: "http://127.0.0.1:$port_a", backoff_cap: 2s, timeout: 5s, connect_timeout: 2s}
YAML
start_agent() {
  "$agent" run --config "$world/agent.yaml" 2>>"$world/daemon.log" &
  daemon=$!
}
start_agent

calls() { fake_chat_calls "$1"; }
count_is() { [[ "$(calls "[.[] | select($1)] | length")" == "$2" ]]; }
sends_to() { echo ".path == \"/bot42:T0K-secret/sendMessage\" and .body.chat_id == $1"; }
edits='.path | endswith("/editMessageText")'
answers='.path | endswith("/answerCallbackQuery")'
discord_posts='.method == "POST" and (.path | test("^/api/webhooks/77/"))'
alerts_json() { "$receiver" alerts --db "$receiver_db" --json; }
heartbeats_stored() { (($(receiver_sql "select count(*) from heartbeats") >= 1)); }
wait_for 150 heartbeats_stored
expect_eq "the agent's heartbeats reach the receiver" 0 $?
expect_eq "a healthy node: nothing sent" 0 "$(calls '[.[] | select(.path | endswith("/sendMessage"))] | length')"

# An incident on the node: one message at the operator's chat and webhook, after confirm.
killed_at=$SECONDS
tmux -S "$world/tmux/sock" kill-session -t BURN2
wait_for 20 count_is "$(sends_to -100)" 1
expect_eq "tmux killed: one message at the operator's Telegram chat" 0 $?
echo "  (the message came $((SECONDS - killed_at)) s after the kill; check interval 1 s, confirm 2 s)"
wait_for 10 count_is "$discord_posts" 1
expect_eq "... and one at the operator's Discord webhook" 0 $?
message=$(calls "[.[] | select($(sends_to -100))][0].body")
expect_match "it names the check and the node" "CRITICAL: tmux on test-node" "$(jq -r .text <<<"$message")"
expect_match "... what is wrong" "BURN2" "$(jq -r .text <<<"$message")"
button=$(jq -r '.reply_markup.inline_keyboard[0][0].callback_data' <<<"$message")
expect_match "an Acknowledge button naming the receiver's alert" '^ack:[0-9]+$' "$button"
key=${button#ack:}
expect_eq "the foundation is not told of an operator's incident" 0 \
  "$(calls "[.[] | select($(sends_to -999))] | length")"
alert_firing() { alerts_json | jq -e ".alerts[0].alert == $key and .alerts[0].state == \"firing\"" >/dev/null; }
wait_for 10 alert_firing
expect_eq "fleet-receiver alerts: the alert firing" 0 $?

# A stranger's press is refused; an acker's acknowledges (the messages edited).
fake_chat_press "{\"from_id\": 999, \"username\": \"mallory\", \"data\": \"ack:$key\", \"message_id\": 1, \"chat_id\": \"-100\"}" >/dev/null
wait_for 15 count_is "$answers" 1
expect_match "the stranger's press is answered with a refusal" "may not acknowledge" \
  "$(calls "[.[] | select($answers)][0].body.text")"
expect_eq "... and the alert still fires" firing "$(alerts_json | jq -r '.alerts[0].state')"
fake_chat_press "{\"from_id\": 123, \"username\": \"alice\", \"data\": \"ack:$key\", \"message_id\": 1, \"chat_id\": \"-100\"}" >/dev/null
wait_for 15 count_is "$answers" 2
expect_eq "the acker's press: acknowledged" "\"Acknowledged alert $key (tmux) on test-node\"" \
  "$(calls "[.[] | select($answers)][1].body.text")"
wait_for 10 count_is "$edits" 1
expect_eq "the Telegram message is edited" 0 $?
expect_match "... to show who acknowledged" "ACKNOWLEDGED.*@alice" \
  "$(calls "[.[] | select($edits)][0].body.text" | tr '\n' ' ')"
wait_for 10 count_is '.method == "PATCH"' 1
expect_eq "the Discord message is edited" 0 $?
expect_eq "fleet-receiver alerts: acknowledged by @alice via telegram" "acknowledged @alice telegram" \
  "$(alerts_json | jq -r '.alerts[0] | "\(.state) \(.ack.by) \(.ack.via)"')"
out=$("$receiver" ack --db "$receiver_db" "$key" 2>&1)
expect_eq "fleet-receiver ack of an acknowledged alert: exit 1" 1 $?
expect_match "... saying by whom" "acknowledged already by @alice" "$out"
out=$("$receiver" ack --db "$receiver_db" 999999 2>&1)
expect_match "fleet-receiver ack of an unknown alert: refused" "no alert 999999" "$out"

# Recovery: resolved, then the statement counts the alert answered.
tmux -S "$world/tmux/sock" new-session -d -s BURN2 'sleep 100000'
wait_for 20 count_is "$(sends_to -100)" 2
expect_match "recovery: a resolved notice" "RESOLVED: tmux on test-node" \
  "$(calls "[.[] | select($(sends_to -100))][1].body.text")"
month=$(date -u +%Y-%m)
statement=$("$receiver" statement --db "$receiver_db" --month "$month" --json)
line=$(jq -c ".operators[] | select(.operator == \"op-7\") | .alerts.list[] | select(.alert == $key)" <<<"$statement")
expect_eq "the statement lists the receiver's alert, answered by the acknowledgement" \
  "true acknowledged telegram" "$(jq -r '"\(.answered) \(.answer) \(.ack.via)"' <<<"$line")"

# The agent killed: silent after silent_after, at the operator's chat and the foundation's.
kill -9 "$daemon"
wait "$daemon" 2>/dev/null
daemon=
killed_at=$SECONDS
silent_sent() { calls "[.[] | select(.path | endswith(\"/sendMessage\")) | select(.body.text | test(\"CRITICAL: silent on test-node\"))] | length"; }
silent_twice() { (($(silent_sent) >= 2)); }
wait_for 150 silent_twice
expect_eq "the agent killed: a silent alert" 0 $?
echo "  (it came $((SECONDS - killed_at)) s after the kill; silent_after 1m from the last heartbeat)"
expect_eq "... at the operator's chat" 1 \
  "$(calls "[.[] | select($(sends_to -100)) | select(.body.text | test(\"CRITICAL: silent on test-node\"))] | length")"
expect_eq "... and at the foundation's" 1 \
  "$(calls "[.[] | select($(sends_to -999)) | select(.body.text | test(\"CRITICAL: silent on test-node\"))] | length")"
expect_match "... saying how long and since when" "no heartbeat for [0-9]+m.*the last at" \
  "$(calls "[.[] | select($(sends_to -999))][0].body.text")"

# The agent back: its heartbeats end the silence.
start_agent
resolved_sent() { calls "[.[] | select(.path | endswith(\"/sendMessage\")) | select(.body.text | test(\"RESOLVED: silent on test-node\"))] | length"; }
resolved_twice() { (($(resolved_sent) >= 2)); }
wait_for 150 resolved_twice
expect_eq "the agent started again: the silent alert resolved at both chats" 0 $?
nothing_open() { alerts_json | jq -e '.alerts | length == 0' >/dev/null; }
wait_for 10 nothing_open
expect_eq "fleet-receiver alerts: nothing open" 0 $?

# Every message once: as many Telegram calls as outbox rows sent to Telegram, no repeats.
sleep 3  # let the sender finish what it claimed
sent_rows=$(receiver_sql "select count(*) from alert_outbox where state = 'sent' and action = 'send' and channel like '%.telegram'")
expect_eq "each Telegram message sent once (outbox rows sent = sendMessage calls)" "$sent_rows" \
  "$(calls '[.[] | select(.path | endswith("/sendMessage"))] | length')"
expect_eq "no message sent twice" 0 \
  "$(calls '[.[] | select(.path | endswith("/sendMessage")) | [.body.chat_id, .body.text]] | group_by(.) | map(select(length > 1)) | length')"
if ((two)); then
  expect_eq "two receivers: one worked the alerts" 1 \
    "$(cat "$world"/receiver-*.log | grep -c 'this receiver works the alerts')"
  polls_by=$(receiver_sql "select value from alert_values where key = 'telegram_poller_state'" | jq -r .holder)
  expect_match "... one polled Telegram" "." "$polls_by"
  expect_eq "... and no 409 from two pollers" 0 "$(cat "$world"/receiver-*.log | grep -c 'conflict')"
fi
for log in "$world"/receiver-*.log "$world/daemon.log"; do
  if grep -q 'T0K-secret\|h00k-secret' "$log"; then fail "a secret is in $(basename "$log")"; fi
done
pass "no secret in the logs"
kill -TERM $serve_a $serve_b 2>/dev/null
wait $serve_a
expect_eq "receiver A stops cleanly" 0 $?
serve_a= serve_b=
finish
