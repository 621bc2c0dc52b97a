#!/usr/bin/env bash
# The fake chat server (fakes/fake_chat.py) speaks as the APIs do, since the alerting tests
# trust it: Telegram (send, edit, "not modified", a wrong token, getUpdates holding until a
# press is injected and 409 for an older poll), Discord (wait=true ids, PATCH, unknown
# message), the generic webhook, every call recorded, and each scripted fault (429 with its
# parameters and headers, garbage, a hang, no Content-Length). Through curl, as a client would.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/fake_chat.sh"
work=$(mktemp -d /tmp/fleet-fake-chat.XXXXXX)
trap 'fake_chat_stop; rm -rf "$work"' EXIT
command -v jq >/dev/null || { echo "SKIPPED: jq is not installed"; exit 77; }
fake_chat_start "$work" --telegram-token 42:T0K --discord-webhook 77/h00k || exit 1
expect_match "the port file holds a port" '^[0-9]+$' "$FAKE_CHAT_PORT"

tg() {  # tg METHOD JSON [curl options]: the reply's body, then its status on the last line
  local method=$1 body=$2
  shift 2
  curl -sS --max-time 20 -w '\n%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "$body" "$@" "$FAKE_CHAT_URL/bot42:T0K/$method"
}
status_of() { tail -n1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }

# Telegram: send, edit, edit again unchanged.
out=$(tg sendMessage '{"chat_id":-100,"text":"<b>CRITICAL</b>","parse_mode":"HTML","reply_markup":{"inline_keyboard":[[{"text":"Acknowledge","callback_data":"ack:7"}]]}}')
expect_eq "sendMessage: 200" 200 "$(status_of "$out")"
expect_eq "sendMessage: a message" "1 -100 <b>CRITICAL</b> ack:7" \
  "$(body_of "$out" | jq -r '[.result.message_id, .result.chat.id, .result.text, .result.reply_markup.inline_keyboard[0][0].callback_data] | join(" ")')"
out=$(tg editMessageText '{"chat_id":-100,"message_id":1,"text":"ACKNOWLEDGED","reply_markup":{"inline_keyboard":[]}}')
expect_eq "editMessageText: done, the button gone" "true ACKNOWLEDGED null" \
  "$(body_of "$out" | jq -r '[.ok, .result.text, .result.reply_markup] | map(tostring) | join(" ")')"
out=$(tg editMessageText '{"chat_id":-100,"message_id":1,"text":"ACKNOWLEDGED"}')
expect_eq "the same edit again: 400" 400 "$(status_of "$out")"
expect_match "... message is not modified" '^Bad Request: message is not modified' \
  "$(body_of "$out" | jq -r .description)"
out=$(tg editMessageText '{"chat_id":-100,"message_id":99,"text":"x"}')
expect_eq "an unknown message: 400 not found" "400 Bad Request: message to edit not found" \
  "$(status_of "$out") $(body_of "$out" | jq -r .description)"
out=$(curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' -d '{}' "$FAKE_CHAT_URL/bot1:WRONG/getMe")
expect_eq "a wrong token: 401 Unauthorized" "401 false 401 Unauthorized" \
  "$(status_of "$out") $(body_of "$out" | jq -r '[.ok, .error_code, .description] | map(tostring) | join(" ")')"
out=$(tg getMe '{}')
expect_eq "getMe: the bot" "true true" "$(body_of "$out" | jq -r '[.ok, .result.is_bot] | map(tostring) | join(" ")')"

# getUpdates holds until a press comes, then hands it over; the offset confirms it.
tg getUpdates '{"timeout":20,"allowed_updates":["callback_query"]}' >"$work/poll1" &
poll=$!
wait_for 10 bash -c "[[ \$(curl -sS '$FAKE_CHAT_URL/_fake/calls' | jq '[.[] | select(.path | endswith(\"/getUpdates\"))] | length') == 1 ]]"
expect_eq "the poll is waiting" 0 "$(kill -0 $poll 2>/dev/null; echo $?)"
started=$SECONDS
press=$(fake_chat_press '{"from_id":123,"username":"alice","data":"ack:7","message_id":1,"chat_id":"-100"}')
wait $poll
expect_eq "the press ends the poll at once" 1 "$((SECONDS - started <= 3))"
update=$(body_of "$(cat "$work/poll1")" | jq -c '.result[0]')
expect_eq "the update: who, what, which message" "123 alice ack:7 1 -100" \
  "$(jq -r '[.callback_query.from.id, .callback_query.from.username, .callback_query.data, .callback_query.message.message_id, .callback_query.message.chat.id] | map(tostring) | join(" ")' <<<"$update")"
expect_eq "the callback id is the one the press returned" "$(jq -r .callback_query_id <<<"$press")" \
  "$(jq -r .callback_query.id <<<"$update")"
next=$(($(jq .update_id <<<"$update") + 1))
out=$(tg getUpdates "{\"offset\":$next,\"timeout\":0}")
expect_eq "offset confirms: nothing again" "[]" "$(body_of "$out" | jq -c .result)"
out=$(tg answerCallbackQuery "{\"callback_query_id\":\"$(jq -r .callback_query.id <<<"$update")\",\"text\":\"Acknowledged\"}")
expect_eq "answerCallbackQuery: true" true "$(body_of "$out" | jq -r .result)"

# A second poller ends the first with 409.
tg getUpdates "{\"offset\":$next,\"timeout\":20}" >"$work/poll2" &
poll=$!
wait_for 10 bash -c "[[ \$(curl -sS '$FAKE_CHAT_URL/_fake/calls' | jq '[.[] | select(.path | endswith(\"/getUpdates\"))] | length') == 3 ]]"
out=$(tg getUpdates "{\"offset\":$next,\"timeout\":1}")
wait $poll
expect_eq "the older poll: 409 Conflict" "409" "$(status_of "$(cat "$work/poll2")")"
expect_match "... terminated by other getUpdates request" "terminated by other getUpdates request" \
  "$(body_of "$(cat "$work/poll2")" | jq -r .description)"
expect_eq "the newer poll: done" 200 "$(status_of "$out")"

# Discord: wait=true gives the id; PATCH edits; unknown message and webhook are 404.
dc() {  # dc METHOD PATH JSON
  curl -sS --max-time 10 -w '\n%{http_code}' -X "$1" -H 'Content-Type: application/json' \
    --data-binary "$3" "$FAKE_CHAT_URL$2"
}
out=$(dc POST '/api/webhooks/77/h00k?wait=true' '{"embeds":[{"title":"CRITICAL"}],"allowed_mentions":{"parse":[]}}')
id=$(body_of "$out" | jq -r .id)
expect_match "discord: a snowflake-like string id" '^[0-9]{18,20}$' "$id"
out=$(dc PATCH "/api/webhooks/77/h00k/messages/$id" '{"embeds":[{"title":"RESOLVED"}]}')
expect_eq "discord: PATCH edits the message" "200 RESOLVED" "$(status_of "$out") $(body_of "$out" | jq -r '.embeds[0].title')"
expect_eq "discord: an unknown message, 404" 404 "$(status_of "$(dc PATCH /api/webhooks/77/h00k/messages/1 '{"content":"x"}')")"
expect_eq "discord: another webhook, 404" 404 "$(status_of "$(dc POST '/api/webhooks/78/h00k?wait=true' '{"content":"x"}')")"
expect_eq "discord: without wait, 204" 204 "$(status_of "$(dc POST /api/webhooks/77/h00k '{"content":"x"}')")"
expect_eq "webhook: 204" 204 "$(status_of "$(dc POST /hook/ops '{"version":"4"}')")"

# Every call is recorded, as sent, its JSON body parsed; control calls are not.
expect_eq "the webhook call, recorded" 'POST /hook/ops "4" application/json' \
  "$(fake_chat_calls '.[-1] | [.method, .path, (.body.version | tojson), .headers["Content-Type"]] | join(" ")' | jq -r .)"
expect_eq "no control call among them" 0 "$(fake_chat_calls '[.[] | select(.path | startswith("/_fake"))] | length')"

# Scripts: 429 twice with retry_after, then normal; a header alone; garbage; no length; a hang.
fake_chat_script '[{"match":"sendMessage","times":2,"status":429,"body":{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}},
                   {"match":"webhooks","headers":{"X-RateLimit-Reset-After":"1.5"}},
                   {"match":"getMe","garbage":true},
                   {"match":"/hook/long","no_length":true,"status":200,"body":{"text":"no length"}},
                   {"match":"/hook/hang","hang":2}]'
for i in 1 2; do
  out=$(tg sendMessage '{"chat_id":-100,"text":"x"}')
  expect_eq "scripted 429 #$i" "429 3" "$(status_of "$out") $(body_of "$out" | jq -r .parameters.retry_after)"
done
expect_eq "the script is used up: 200" 200 "$(status_of "$(tg sendMessage '{"chat_id":-100,"text":"x"}')")"
headers=$(curl -sS -D - -o /dev/null -H 'Content-Type: application/json' -d '{"content":"x"}' "$FAKE_CHAT_URL/api/webhooks/77/h00k?wait=true")
expect_match "a header added to the normal answer" $'X-RateLimit-Reset-After: 1.5\r' "$headers"
expect_match "... which is still the normal answer" 'HTTP/1.1 200' "$headers"
out=$(tg getMe '{}')
expect_eq "garbage: 200, not JSON" "200 no" \
  "$(status_of "$out") $(body_of "$out" | jq . >/dev/null 2>&1 && echo yes || echo no)"
expect_eq "no Content-Length: the body ends with the connection" "no length" \
  "$(curl -sS --max-time 5 -d '{}' "$FAKE_CHAT_URL/hook/long" | jq -r .text)"
started=$SECONDS
curl -sS --max-time 10 -d '{}' "$FAKE_CHAT_URL/hook/hang" >/dev/null 2>&1
code=$?
expect_eq "a hang ends with no answer at all" 52 "$code"  # curl: empty reply from server
expect_eq "... after about the time asked" 1 "$((SECONDS - started >= 1 && SECONDS - started <= 5))"

fake_chat_reset
expect_eq "reset forgets the calls" "[]" "$(fake_chat_calls)"
out=$(tg editMessageText '{"chat_id":-100,"message_id":1,"text":"y"}')
expect_eq "... and the messages" 400 "$(status_of "$out")"
finish
