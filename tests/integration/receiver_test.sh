#!/bin/bash
# fleet-receiver over loopback, against real agent records: `nodes add/list/revoke` and
# their errors; `serve` stores each record exactly once (reordered batches, replays),
# refuses tampered, forged, alg-none, unknown-key (401) and revoked-key (403) records,
# answers 413/415/404/405/400 in JSON, survives garbage and idle clients, caps connections
# (closing the longest-idle one to make room),
# keeps connections alive, answers Expect: 100-continue, and exits 0 on SIGTERM. Runs on
# SQLite, and again on PostgreSQL as integration.receiver_test.pg (lib/receiver_store.sh).
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/receiver_store.sh"
receiver=${FLEET_RECEIVER:?}
agent=${FLEET_AGENT:?}
work=$(mktemp -d /var/tmp/fleet-receiver.XXXXXX)
server=""
cleanup() {
  [[ -n $server ]] && kill -9 "$server" 2>/dev/null
  exec 4>&- 5>&- 6>&- 7>&- 2>/dev/null
  receiver_store_down
  rm -rf "$work"
}
trap cleanup EXIT
receiver_store_up "$work" || { echo "cannot set up the receiver's database"; exit 1; }
db=$receiver_db
sql() { receiver_sql "$1"; }

# Real agent records: a node key, then two runs of the daemon with no checks: the first
# until its first heartbeat (the minute it started in has ended: up to a minute), the
# second for 2 s (agent_start, heartbeat, agent_stop, agent_start, agent_stop). With
# QUICK, both runs last 2 s (no heartbeat).
agent_records() {  # agent_records STATE_DIR OUT_FILE [QUICK]
  mkdir -p "$work/home"
  cat >"$work/agent.yaml" <<YAML
node: {id: test-node}
hermes: {home: $work/home}
state_dir: $1
checks:
  tmux: {enabled: false}
  gateway: {enabled: false}
  disk: {enabled: false}
  cron: {enabled: false}
  dispatch: {enabled: false}
YAML
  if [[ -z "${3:-}" ]]; then
    "$agent" run --config "$work/agent.yaml" 2>>"$work/agent.log" &
    local daemon=$! beat=0
    has_heartbeat() {
      (($(sqlite3 -readonly "$1/history.db" "select count(*) from records where type = 'heartbeat'") >= 1))
    }
    wait_for 75 has_heartbeat "$1" && beat=1
    kill -TERM $daemon; wait $daemon
    ((beat)) || { echo "no heartbeat from the agent within 75 s"; cat "$work/agent.log"; exit 1; }
  else
    timeout -s TERM 2 "$agent" run --config "$work/agent.yaml" 2>>"$work/agent.log"
  fi
  timeout -s TERM 2 "$agent" run --config "$work/agent.yaml" 2>>"$work/agent.log"
  "$agent" records --state-dir "$1" >"$2"
}
"$agent" keygen --state-dir "$work/state" >/dev/null || { echo "fleet-agent keygen failed"; exit 1; }
"$agent" pubkey --state-dir "$work/state" --jwk >"$work/node.jwk"
agent_records "$work/state" "$work/records"
n=$(wc -l <"$work/records")
if ((n < 5)); then echo "the agent wrote $n records, expected at least 5"; cat "$work/agent.log"; exit 1; fi
kid=$(jq -r .kid "$work/node.jwk")
"$agent" keygen --state-dir "$work/state2" >/dev/null
"$agent" pubkey --state-dir "$work/state2" --jwk >"$work/other.jwk"
agent_records "$work/state2" "$work/other-records" quick

# nodes add / list / revoke and their errors.
out=$("$receiver" nodes add --db "$db" --node test-node --operator op-1 --jwk "$work/node.jwk")
expect_eq "nodes add" 0 $?
expect_match "nodes add names the kid" "$kid" "$out"
err=$("$receiver" nodes add --db "$db" --node test-node --operator op-1 --jwk "$work/other.jwk" 2>&1)
expect_eq "adding an existing node: runtime error" 1 $?
expect_match "... says so" "node test-node already exists" "$err"
err=$("$receiver" nodes add --db "$db" --node node-2 --operator op-1 --jwk "$work/node.jwk" 2>&1)
expect_eq "adding a key already registered: runtime error" 1 $?
expect_match "... names its node" "already registered to node test-node" "$err"
echo 'not json' >"$work/bad.jwk"
err=$("$receiver" nodes add --db "$db" --node node-2 --operator op-1 --jwk "$work/bad.jwk" 2>&1)
expect_eq "bad JWK file: runtime error" 1 $?
expect_eq "... one line" 1 "$(wc -l <<<"$err")"
jq -c '.kid = "AAAAAAAAAAA"' "$work/other.jwk" >"$work/wrong-kid.jwk"
err=$("$receiver" nodes add --db "$db" --node node-2 --operator op-1 --jwk "$work/wrong-kid.jwk" 2>&1)
expect_eq "a kid that is not the key's: runtime error" 1 $?
expect_match "... says so" "kid in the file does not match" "$err"
"$receiver" nodes add --db "$db" --node node-2 --operator op-1 --jwk "$work/missing.jwk" 2>/dev/null
expect_eq "missing JWK file: runtime error" 1 $?
"$receiver" nodes add --db "$db" --node 'bad id!' --operator op-1 --jwk "$work/other.jwk" 2>/dev/null
expect_eq "bad node id: usage error" 2 $?
"$receiver" nodes add --db "$db" --node node-2 --jwk "$work/other.jwk" 2>/dev/null
expect_eq "missing --operator: usage error" 2 $?
"$receiver" nodes list 2>/dev/null
expect_eq "missing --db: usage error" 2 $?
"$receiver" nodes list --db "$work/none.db" 2>/dev/null
expect_eq "list on a missing database: runtime error" 1 $?
"$receiver" nodes add --db /nonexistent/dir/r.db --node n --operator o --jwk "$work/node.jwk" 2>/dev/null
expect_eq "database that cannot be opened: runtime error" 1 $?
"$receiver" nodes revoke --db "$db" --node nobody --reason test 2>/dev/null
expect_eq "revoking an unknown node: runtime error" 1 $?
"$receiver" nodes add --db "$db" --node other-node --operator op-2 --jwk "$work/other.jwk" >/dev/null
expect_eq "a second node" 0 $?
list=$("$receiver" nodes list --db "$db" --json)
expect_eq "nodes list --json" "other-node:op-2:false,test-node:op-1:false" \
  "$(jq -r '[.[]|"\(.node):\(.operator):\(.revoked)"]|join(",")' <<<"$list")"
expect_match "nodes list (table)" "test-node +op-1 +$kid +active" "$("$receiver" nodes list --db "$db")"

# serve on a free port.
"$receiver" serve --listen 127.0.0.1:0 --db "$db" --threads 2 --read-timeout 3 --max-connections 3 2>"$work/serve.log" &
server=$!
for _ in $(seq 50); do grep -q 'listening on 127.0.0.1:' "$work/serve.log" && break; sleep 0.1; done
port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | cut -d: -f2)
[[ -n $port ]] || { echo "the receiver did not start:"; cat "$work/serve.log"; exit 1; }
url=http://127.0.0.1:$port
post() {  # post FILE [CONTENT_TYPE]: prints the status; the reply lands in $work/reply
  curl -s -o "$work/reply" -w '%{http_code}' --max-time 10 \
    -H "Content-Type: ${2:-application/x-ndjson}" --data-binary @"$1" "$url/v1/records"
}
reply() { jq -c "$1" "$work/reply"; }
lines() { sed -n "$1" "$work/records"; }  # lines SED-RANGE

expect_eq "healthz" '200 {"ok":true}' "$(curl -s -w '%{http_code} ' -o "$work/h" "$url/healthz"; cat "$work/h")"

# Reordered batches, then a replay: exactly once.
{ lines 3p; lines 1p; } >"$work/b1"
expect_eq "batch 3,1: status" 200 "$(post "$work/b1")"
expect_eq "batch 3,1: ack 1, gap 2" '[1,[[2,2]],2]' "$(reply '[.ack_seq,.gaps,.stored]')"
{ tac "$work/records" | head -n $((n - 3)); lines 2p; } >"$work/b2"
expect_eq "the rest, reversed: status" 200 "$(post "$work/b2")"
expect_eq "the rest: everything acknowledged" "[$n,[],$((n - 2)),0]" \
  "$(reply '[.ack_seq,.gaps,.stored,.duplicates]')"
expect_eq "node and epoch" '["test-node",1]' "$(reply '[.node,.epoch]')"
expect_eq "stored once each" "$n|$n|$n" "$(sql 'select count(*), count(distinct seq), max(seq) from records')"
beats=$(sql "select count(*) from records where type = 'heartbeat'")
[[ $beats -gt 0 ]] || { echo "FAIL: no heartbeat records to look at"; exit 1; }
expect_eq "each heartbeat's decoded fields in the typed table, once" "$beats|$beats" \
  "$(sql 'select count(*), count(distinct minute) from heartbeats')"
expect_eq "receive times stored" 0 "$(sql "select count(*) from records where received_at < $(($(date +%s) - 600))")"
expect_eq "the watermark" "$n" "$(sql "select ack_seq from watermarks where node='test-node' and epoch=1")"
expect_eq "replay: status" 200 "$(post "$work/records")"
expect_eq "replay: all duplicates" "[$n,0,$n]" "$(reply '[.ack_seq,.stored,.duplicates]')"
expect_eq "replay: nothing stored twice" "$n" "$(sql 'select count(*) from records')"

# Refused records.
last=$(lines "${n}p")
payload=${last#*.}; payload=${payload%%.*}
flip() { [[ ${1:$2:1} == A ]] && echo "${1:0:$2}B${1:$(($2 + 1))}" || echo "${1:0:$2}A${1:$(($2 + 1))}"; }
head_part=${last%%.*}
tampered="$head_part.$(flip "$payload" 20).${last##*.}"
echo "$tampered" >"$work/tampered"
expect_eq "tampered payload: 400" 400 "$(post "$work/tampered")"
expect_match "... a JSON error" "signature|base64|JSON" "$(reply .error)"
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
none_header=$(printf '{"alg":"none","kid":"%s","typ":"fleet-record+jws"}' "$kid" | b64url)
echo "$none_header.$payload." >"$work/alg-none"
expect_eq "alg none: 400" 400 "$(post "$work/alg-none")"
expect_match "... alg pinned" "alg must be EdDSA" "$(reply .error)"
hs_header=$(printf '{"alg":"HS256","kid":"%s","typ":"fleet-record+jws"}' "$kid" | b64url)
hs_sig=$(printf '%s' "$hs_header.$payload" | openssl dgst -sha256 -hmac "$(jq -r .x "$work/node.jwk")" -binary 2>/dev/null | b64url)
echo "$hs_header.$payload.$hs_sig" >"$work/alg-hs256"
expect_eq "alg HS256 keyed with the public key: 400" 400 "$(post "$work/alg-hs256")"
head -2 "$work/other-records" >"$work/forged"
expect_eq "a registered key signing for another node: 400" 400 "$(post "$work/forged")"
expect_match "... node mismatch" "belongs to node 'other-node'" "$(reply .error)"
"$agent" keygen --state-dir "$work/state3" >/dev/null
agent_records "$work/state3" "$work/stranger-records"
expect_eq "unknown key: 401" 401 "$(post "$work/stranger-records")"
expect_match "... unknown kid" "unknown kid" "$(reply .error)"
printf 'hello\nworld\n' >"$work/garbage"
expect_eq "garbage lines: 400" 400 "$(post "$work/garbage")"
expect_eq "... each line rejected" '[1,2]' "$(reply '[.rejected[].line]')"
expect_eq "nothing refused was stored" "$n|0" "$(sql 'select count(*), (select count(*) from forks) from records')"

# HTTP errors, all JSON.
head -c $((2 << 20)) /dev/zero | tr '\0' a >"$work/big"
expect_eq "2 MiB body: 413" 413 "$(post "$work/big")"
expect_match "... JSON error" "larger than" "$(reply .error)"
expect_eq "wrong content type: 415" 415 "$(post "$work/records" application/json)"
expect_match "... JSON error" "x-ndjson" "$(reply .error)"
expect_eq "unknown path: 404" 404 "$(curl -s -o "$work/reply" -w '%{http_code}' "$url/nope")"
expect_eq "... JSON error" true "$(reply 'has("error")')"
expect_eq "wrong method: 405" 405 "$(curl -s -o "$work/reply" -w '%{http_code}' "$url/v1/records")"
expect_eq "keep-alive: two requests, one connection" "1 0" \
  "$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "$url/healthz" "$url/healthz" | xargs)"

expect_match "Expect: 100-continue is answered, not waited out" "^200 0\.[0-4]" \
  "$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Expect: 100-continue' \
    -H 'Content-Type: application/x-ndjson' --data-binary @"$work/records" "$url/v1/records")"

# Hostile clients: bytes that are not HTTP, an idle connection, a half-sent request.
exec 5<>"/dev/tcp/127.0.0.1/$port"
printf 'GARBAGE \001\002\377\r\n\r\n' >&5
answer=$(timeout 5 cat <&5 | head -c 300); rc=${PIPESTATUS[0]}
expect_match "garbage bytes: 400" "^HTTP/1.1 400" "$answer"
expect_eq "... and the connection is closed" 0 "$rc"
exec 5>&-
exec 4<>"/dev/tcp/127.0.0.1/$port"   # idle: sends nothing
exec 5<>"/dev/tcp/127.0.0.1/$port"; printf 'POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc' >&5
start=$(date +%s%N)
expect_eq "others are served meanwhile" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/healthz")"
expect_eq "... promptly" 1 "$(( ($(date +%s%N) - start) < 1000000000 ))"
exec 6<>"/dev/tcp/127.0.0.1/$port"; sleep 0.2   # the third connection: the cap
exec 7<>"/dev/tcp/127.0.0.1/$port"               # a fourth, above it
timeout 2 cat <&4 >/dev/null
expect_eq "above --max-connections, the longest-idle connection is closed to make room" 0 $?
timeout 1 cat <&7 >/dev/null
expect_eq "... the new one stays open" 124 $?
timeout 1 cat <&5 >/dev/null
expect_eq "... and a request being received is not the one closed" 124 $?
exec 7>&-
timeout 8 cat <&6 >/dev/null
expect_eq "an idle client is dropped after the read timeout" 0 $?
timeout 8 cat <&5 >/dev/null
expect_eq "the half-sent request is dropped too" 0 $?
exec 6>&-
exec 4>&- 5>&-

# Revocation takes effect at once, for what the node signed after its time; `--reason` is
# required and --at must be a time.
"$receiver" nodes revoke --db "$db" --node test-node 2>/dev/null
expect_eq "nodes revoke without --reason: usage error" 2 $?
"$receiver" nodes revoke --db "$db" --node test-node --at yesterday --reason x 2>/dev/null
expect_eq "nodes revoke --at yesterday: usage error" 2 $?
out=$("$receiver" nodes revoke --db "$db" --node test-node --at 2020-01-01T00:00:00Z --reason "hardware returned")
expect_eq "nodes revoke" 0 $?
expect_match "... says from when and why" "revoked node test-node at 2020-01-01T00:00:00Z \\(hardware returned\\)" "$out"
expect_eq "revoked key: 403" 403 "$(post "$work/records")"
expect_match "... says revoked, since when and why" \
  "^\"line 1: node test-node is revoked since 2020-01-01T00:00:00Z \\(hardware returned\\)" "$(reply .error)"
expect_eq "nodes list shows it" '[true,"2020-01-01T00:00:00Z","hardware returned"]' \
  "$("$receiver" nodes list --db "$db" --json | jq -c '.[]|select(.node=="test-node")|[.revoked,.revoked_at,.revoke_reason]')"
out=$("$receiver" nodes revoke --db "$db" --node test-node --reason "again")
expect_match "revoking again keeps the first" "revoked already at 2020-01-01T00:00:00Z \\(hardware returned\\); unchanged" "$out"
# An operator's exit: their other node goes too; no node is added for them again.
out=$("$receiver" operators revoke --db "$db" --id op-2 --reason "left the program")
expect_eq "operators revoke" 0 $?
expect_match "... revokes their node" "revoked operator op-2 at .* \\(left the program\\): 1 node\\(s\\) revoked now" "$out"
expect_eq "their node carries the operator's reason" "operator op-2 revoked: left the program" \
  "$("$receiver" nodes list --db "$db" --json | jq -r '.[]|select(.node=="other-node")|.revoke_reason')"
err=$("$receiver" nodes add --db "$db" --node node-5 --operator op-2 --jwk "$work/other.jwk" 2>&1)
expect_eq "no node is added for a revoked operator" 1 $?
expect_match "... says why" "operator op-2 was revoked at .*no node is added for them" "$err"
"$receiver" operators revoke --db "$db" --id op-9 --reason x 2>/dev/null
expect_eq "revoking an unknown operator: runtime error" 1 $?

kill -TERM "$server"
wait "$server"; rc=$?
server=""
expect_eq "SIGTERM: clean exit" 0 "$rc"
expect_match "... logged" "stopping on SIGTERM" "$(cat "$work/serve.log")"
if [[ ${FLEET_RECEIVER_STORE:-sqlite} == sqlite ]]; then
  expect_eq "the database is intact" ok "$(sqlite3 "$db" 'pragma integrity_check')"
fi
"$receiver" serve --listen 127.0.0.1:99999 --db "$db" 2>/dev/null
expect_eq "bad --listen: usage error" 2 $?

finish
