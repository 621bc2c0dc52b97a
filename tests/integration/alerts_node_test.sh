#!/usr/bin/env bash
# A node alerting on its own, end to end: `fleet-agent run` on a real node (tmux, tmpfs)
# with Telegram and Discord pointed at the fake chat server on loopback (fakes/fake_chat.py)
# and an escalation webhook. A tmux session killed: one message per channel after
# `confirm`, with the node, the check, what is wrong, the runbook's fix and an Acknowledge
# button; a press from a user not in ackers is refused and changes nothing; a press from an
# acker acknowledges (the message edited, a signed ack record); recovery sends the resolved
# notice; `fleet-agent ack` refuses unknown and closed incidents; maintenance holds an
# alert back until it ends; reminder and escalation come at their time; `fleet-agent ack
# --note` acknowledges from the command line, recorded as such. No secret in the log.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
source "$here/lib/fake_chat.sh"
require_root "mounting a tmpfs"
command -v jq >/dev/null || { echo "SKIPPED: jq is not installed"; exit 77; }
agent=${FLEET_AGENT:?}
trap 'kill -9 $daemon 2>/dev/null; fake_chat_stop; world_down' EXIT
world_up "$(mktemp -d /var/tmp/fleet-alerts.XXXXXX)" || { echo "cannot build the test node"; exit 1; }
fake_chat_start "$world" --telegram-token 42:T0K-secret --discord-webhook 77/h00k-secret || exit 1

printf '42:T0K-secret\n' >"$world/telegram.token"
printf 'https://discord.com/api/webhooks/77/h00k-secret\n' >"$world/discord.url"
printf '%s/hook/escalation\n' "$FAKE_CHAT_URL" >"$world/escalation.url"
chmod 600 "$world/telegram.token" "$world/discord.url" "$world/escalation.url"
cat >>"$world/agent.yaml" <<YAML
alerts:
  telegram: {token_file: $world/telegram.token, chat_id: "-100", ackers: [123], api_base: "$FAKE_CHAT_URL"}
  discord: {webhook_url_file: $world/discord.url, api_base: "$FAKE_CHAT_URL"}
  escalation:
    webhook: {url_file: $world/escalation.url}
  confirm: 2s
  repeat: 1m
  escalate_after: 1m
YAML

"$agent" run --config "$world/agent.yaml" 2>"$world/daemon.log" &
daemon=$!
state=(--state-dir "$world/state")
status_has() { "$agent" status "${state[@]}" --json 2>/dev/null | jq -e "$1" >/dev/null; }
alerts_has() { "$agent" alerts "${state[@]}" --json 2>/dev/null | jq -e "$1" >/dev/null; }
calls() { fake_chat_calls "$1"; }
text_of() { curl -sS --max-time 10 "$FAKE_CHAT_URL/_fake/calls" | jq -r "$1"; }
count_is() { [[ "$(calls "[.[] | select($1)] | length")" == "$2" ]]; }
sends='.path | endswith("/sendMessage")'
edits='.path | endswith("/editMessageText")'
answers='.path | endswith("/answerCallbackQuery")'
discord_posts='.method == "POST" and (.path | test("^/api/webhooks/77/"))'
discord_patches='.method == "PATCH"'
escalations='.path == "/hook/escalation"'

wait_for 15 status_has '.ready == true'
expect_eq "daemon ready" 0 $?
wait_for 10 status_has '.alerts.channels | length == 3'
expect_eq "status names the three channels" 0 $?
expect_eq "a healthy node sends nothing" 0 "$(calls "[.[] | select($sends)] | length")"

# An incident: one message per channel, after confirm.
tmux -S "$world/tmux/sock" kill-session -t BURN2
wait_for 15 count_is "$sends" 1
expect_eq "tmux killed: one Telegram message" 0 $?
wait_for 10 count_is "$discord_posts" 1
expect_eq "... and one Discord message" 0 $?
message=$(calls "[.[] | select($sends)][0].body")
expect_eq "sendMessage: HTML to the configured chat" "-100 HTML" \
  "$(jq -r '[.chat_id, .parse_mode] | map(tostring) | join(" ")' <<<"$message")"
expect_match "the message names the check and the node" "CRITICAL: tmux on test-node" \
  "$(jq -r .text <<<"$message")"
expect_match "... what is wrong" "BURN2" "$(jq -r .text <<<"$message")"
expect_match "... and the runbook's fix" "Fix: recreate the session: tmux new -d -s" \
  "$(jq -r .text <<<"$message")"
button=$(jq -r '.reply_markup.inline_keyboard[0][0] | "\(.text) \(.callback_data)"' <<<"$message")
expect_match "an Acknowledge button naming the alert" '^Acknowledge ack:[0-9]+$' "$button"
alert_id=${button##*ack:}
embed=$(calls "[.[] | select($discord_posts)][0]")
expect_match "Discord: posted with wait=true" 'wait=true' "$(jq -r .path <<<"$embed")"
expect_eq "Discord: one red embed, nobody pinged" "1 15158332 0" \
  "$(jq -r '.body | [(.embeds | length), .embeds[0].color, (.allowed_mentions.parse | length)] | map(tostring) | join(" ")' <<<"$embed")"
wait_for 10 alerts_has ".alerts[0].state == \"firing\" and .alerts[0].id == $alert_id"
expect_eq "fleet-agent alerts: the alert firing" 0 $?
message_id=1  # the fake numbers Telegram messages from 1: this is the first

# A press from someone not in ackers: refused, nothing changes.
fake_chat_press "{\"from_id\": 999, \"username\": \"mallory\", \"data\": \"ack:$alert_id\", \"message_id\": $message_id, \"chat_id\": \"-100\"}" >/dev/null
wait_for 10 count_is "$answers" 1
expect_eq "the stranger's press is answered" 0 $?
expect_match "... with a refusal" "may not acknowledge" \
  "$(text_of "[.[] | select($answers)][0].body.text")"
expect_eq "... and the alert still fires" "firing" \
  "$("$agent" alerts "${state[@]}" --json | jq -r '.alerts[0].state')"

# A press from an acker: acknowledged, the messages edited, a signed ack record.
fake_chat_press "{\"from_id\": 123, \"username\": \"alice\", \"data\": \"ack:$alert_id\", \"message_id\": $message_id, \"chat_id\": \"-100\"}" >/dev/null
wait_for 10 count_is "$answers" 2
expect_match "the acker's press is answered: acknowledged" "^Acknowledged alert $alert_id" \
  "$(text_of "[.[] | select($answers)][1].body.text")"
wait_for 10 count_is "$edits" 1
expect_eq "the Telegram message is edited" 0 $?
edit=$(calls "[.[] | select($edits)][0].body")
expect_match "... to show who acknowledged" "ACKNOWLEDGED.*Acknowledged by @alice" \
  "$(jq -r .text <<<"$edit" | tr '\n' ' ')"
expect_eq "... with no button left" "0" "$(jq -r '.reply_markup.inline_keyboard // [] | length' <<<"$edit")"
wait_for 10 count_is "$discord_patches" 1
expect_eq "the Discord message is edited (PATCH)" 0 $?
tmux_incident=$(world_sql "select id from incidents where check_name = 'tmux' and closed is null")
ack=$(world_sql "select payload from records where type = 'ack'")
expect_eq "a signed ack record: incident, who, via" "$tmux_incident @alice telegram" \
  "$(jq -r '[.incident, .by, .via] | map(tostring) | join(" ")' <<<"$ack")"
expect_eq "fleet-agent alerts: acknowledged by @alice" "acknowledged @alice telegram" \
  "$("$agent" alerts "${state[@]}" --json | jq -r '.alerts[0] | "\(.state) \(.acked_by) \(.acked_via)"')"

# Recovery: a resolved notice, and the first message edited once more.
tmux -S "$world/tmux/sock" new-session -d -s BURN2 'sleep 100000'
wait_for 15 count_is "$sends" 2
expect_match "recovery: a resolved notice with its duration" "RESOLVED: tmux on test-node.*after" \
  "$(text_of "[.[] | select($sends)][1].body.text" | tr '\n' ' ')"
wait_for 10 count_is "$edits" 2
expect_eq "... and the first message shows it resolved" 0 $?
wait_for 10 alerts_has '.alerts | length == 0'
expect_eq "fleet-agent alerts: nothing open" 0 $?

# The command line refuses what cannot be acknowledged, with a reason.
out=$("$agent" ack 999 "${state[@]}" 2>&1)
expect_eq "ack of an unknown incident: exit 1" 1 $?
expect_match "... saying so" "no incident 999" "$out"
out=$("$agent" ack "$tmux_incident" "${state[@]}" 2>&1)
expect_eq "ack of a closed incident: exit 1" 1 $?
expect_match "... saying so" "closed already" "$out"

# Maintenance holds an alert back; its end sends it.
out=$("$agent" maintenance --for 1h --reason "kernel upgrade" "${state[@]}" 2>&1)
expect_eq "maintenance --for 1h: exit 0" 0 $?
expect_match "... until when" "silenced until" "$out"
expect_eq "a signed maintenance record" "kernel upgrade" \
  "$(world_sql "select payload from records where type = 'maintenance'" | jq -r .reason)"
tmux -S "$world/tmux/sock" kill-session -t BURN2
wait_for 15 alerts_has '.alerts[0].state == "held"'
expect_eq "during maintenance the alert is held back" 0 $?
expect_eq "... and nothing is sent" 2 "$(calls "[.[] | select($sends)] | length")"
out=$("$agent" maintenance --end "${state[@]}" 2>&1)
expect_eq "maintenance --end: exit 0" 0 $?
wait_for 10 count_is "$sends" 3
expect_match "when it ends the held alert goes out" "CRITICAL: tmux on test-node" \
  "$(text_of "[.[] | select($sends)][2].body.text")"
held_at=$SECONDS

# Unacknowledged: a reminder after `repeat`, the escalation channel after `escalate_after`.
wait_for 80 count_is "$escalations" 1
expect_eq "escalation webhook told after escalate_after" 0 $?
escalation=$(calls "[.[] | select($escalations)][0].body")
expect_eq "the escalation: an Alertmanager-shaped firing alert for tmux" "firing tmux test-node true" \
  "$(jq -r '[.status, .alerts[0].labels.check, .alerts[0].labels.node, .fleet.escalation] | map(tostring) | join(" ")' <<<"$escalation")"
wait_for 20 count_is "$sends" 4
expect_match "a reminder after repeat" "^<b>Reminder: CRITICAL: tmux" \
  "$(text_of "[.[] | select($sends)][3].body.text")"
((SECONDS - held_at >= 55)) || fail "the reminder came after $((SECONDS - held_at)) s, before repeat"

# The command line acknowledges too, with a note, recorded as via cli.
out=$("$agent" ack --note "on it" "${state[@]}" 2>&1)
expect_eq "fleet-agent ack: exit 0" 0 $?
expect_match "... naming the alert" "^Acknowledged alert [0-9]+ \(tmux\)" "$out"
expect_eq "the ack record: via cli with the note" "cli on it" \
  "$(world_sql "select payload from records where type = 'ack' order by seq desc limit 1" | jq -r '"\(.via) \(.note)"')"

if grep -q 'T0K-secret\|h00k-secret' "$world/daemon.log"; then
  fail "a secret is in the daemon's log"
else
  pass "no secret in the daemon's log"
fi
kill -TERM $daemon
wait $daemon
expect_eq "clean stop" 0 $?
finish
