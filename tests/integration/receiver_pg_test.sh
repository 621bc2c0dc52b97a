#!/bin/bash
# fleet-receiver on PostgreSQL (--db postgresql://...): `nodes add/list/revoke` on the URI;
# two `serve` processes on one database, each sent the same batches of real agent records
# at the same time, store every record exactly once and both acknowledge all of it; their
# database connections killed (pg_terminate_backend) they answer again at once; a revoked
# node is refused by both; an unreachable database is one error line and exit 1, not a crash.
# Needs the server at FLEET_TEST_PG_URL (ctest's fixture pg); skipped without it.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
receiver=${FLEET_RECEIVER:?}
agent=${FLEET_AGENT:?}
spool_fill=${FLEET_SPOOL_FILL:?}
base_url=${FLEET_TEST_PG_URL:-}
[[ -n $base_url ]] || { echo "SKIPPED: FLEET_TEST_PG_URL is unset (ctest fixture pg starts a server)"; exit 77; }
psql -X -q -d "$base_url" -c 'SELECT 1' >/dev/null 2>&1 ||
  { echo "SKIPPED: no PostgreSQL server at $base_url"; exit 77; }

work=$(mktemp -d /var/tmp/fleet-receiver-pg.XXXXXX)
dbname=fleet_rt_$$
db=$(sed -E "s|^(postgres(ql)?://[^/]*)/[^?]*|\1/$dbname|" <<<"$base_url")
servers=()
cleanup() {
  local pid
  for pid in "${servers[@]}"; do kill -9 "$pid" 2>/dev/null; done
  psql -X -q -d "$base_url" -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
psql -X -q -d "$base_url" -c "CREATE DATABASE $dbname" >/dev/null || { echo "cannot create $dbname"; exit 1; }
sql() { psql -X -qAt -d "$db" -c "$1"; }

# 240 minutes of real signed heartbeats from a node key.
"$agent" keygen --state-dir "$work/state" >/dev/null || { echo "fleet-agent keygen failed"; exit 1; }
"$agent" pubkey --state-dir "$work/state" --jwk >"$work/node.jwk"
"$spool_fill" "$work/state" test-node 240 >/dev/null || { echo "fleet-spool-fill failed"; exit 1; }
"$agent" records --state-dir "$work/state" >"$work/records"
n=$(wc -l <"$work/records")
expect_eq "records made" 240 "$n"

out=$("$receiver" nodes add --db "$db" --node test-node --operator op-1 --jwk "$work/node.jwk")
expect_eq "nodes add on PostgreSQL" 0 $?
expect_eq "the schema is migrated (13: dashboard access tokens and sessions)" 13 "$(sql 'SELECT max(version) FROM schema_migrations')"
err=$("$receiver" nodes add --db "$db" --node test-node --operator op-1 --jwk "$work/node.jwk" 2>&1)
expect_eq "adding it again: runtime error" 1 $?
expect_match "... says so" "already exists" "$err"
expect_eq "nodes list --json" "test-node:op-1:false" \
  "$("$receiver" nodes list --db "$db" --json | jq -r '.[]|"\(.node):\(.operator):\(.revoked)"')"
"$receiver" nodes revoke --db "$db" --node nobody --reason test 2>/dev/null
expect_eq "revoking an unknown node: runtime error" 1 $?
err=$("$receiver" nodes list --db "postgresql:///none?host=$work/nowhere&port=1" 2>&1)
expect_eq "an unreachable database: runtime error" 1 $?
expect_eq "... one line" 1 "$(wc -l <<<"$err")"
expect_match "... saying why" "cannot connect" "$err"
"$receiver" serve --listen 127.0.0.1:0 --db "postgresql:///none?host=$work/nowhere&port=1" 2>"$work/bad.log"
expect_eq "serve on an unreachable database: exit 1" 1 $?
expect_match "... logged" "cannot connect" "$(cat "$work/bad.log")"

start_server() {  # start_server NAME: sets port_NAME
  "$receiver" serve --listen 127.0.0.1:0 --db "$db" --threads 2 2>"$work/$1.log" &
  servers+=($!)
  wait_for 10 grep -q 'listening on 127.0.0.1:' "$work/$1.log"
  local port
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/$1.log" | head -1 | cut -d: -f2)
  [[ -n $port ]] || { echo "receiver $1 did not start:"; cat "$work/$1.log"; exit 1; }
  printf -v "port_$1" '%s' "$port"
}
start_server a
start_server b
expect_match "the log names the database" "database postgresql:///$dbname" "$(cat "$work/a.log")"
post() {  # post PORT FILE REPLY: prints the status
  curl -s -o "$3" -w '%{http_code}' --max-time 20 -H 'Content-Type: application/x-ndjson' \
    --data-binary @"$2" "http://127.0.0.1:$1/v1/records"
}

# Both receivers get every batch at the same moment; the second half arrives reversed.
split -l 30 -d "$work/records" "$work/batch."
for f in "$work"/batch.0[4-7]; do tac "$f" >"$f.r" && mv "$f.r" "$f"; done
statuses=""
for f in "$work"/batch.*; do
  post "$port_a" "$f" "$f.a" >"$f.sa" &
  pa=$!
  post "$port_b" "$f" "$f.b" >"$f.sb" &
  wait "$pa" $!
  statuses+="$(cat "$f.sa") $(cat "$f.sb") "
done
expect_eq "every batch answered 200 by both" "" "$(tr ' ' '\n' <<<"$statuses" | grep -v '^200$\|^$' | sort -u | xargs)"
stored=$(cat "$work"/batch.*.[ab] | jq -s 'map(.stored)|add')
dups=$(cat "$work"/batch.*.[ab] | jq -s 'map(.duplicates)|add')
expect_eq "stored once in all: the replies" "$n $n" "$stored $dups"
expect_eq "stored once in all: the table" "$n|$n|$n" "$(sql 'SELECT count(*), count(DISTINCT seq), max(seq) FROM records')"
beats=$(sql "select count(*) from records where type = 'heartbeat'")
[[ $beats -gt 0 ]] || { echo "FAIL: no heartbeat records to look at"; exit 1; }
expect_eq "each heartbeat's decoded fields in the typed table, once" "$beats|$beats" \
  "$(sql 'select count(*), count(distinct minute) from heartbeats')"
expect_eq "no forks" 0 "$(sql 'SELECT count(*) FROM forks')"
expect_eq "the watermark" "$n" "$(sql "SELECT ack_seq FROM watermarks WHERE node = 'test-node' AND epoch = 1")"
last=$(ls "$work"/batch.* | grep -v '\.[ab]$\|\.s[ab]$' | tail -1)
expect_eq "the last batch: both acknowledge everything" "$n $n" "$(jq -r .ack_seq "$last.a") $(jq -r .ack_seq "$last.b")"

# Their connections killed: both answer at once (they reconnect), nothing stored twice.
# Each receiver holds five: a writer, a key reader, /metrics' fleet reader, and the
# dashboard's report source and link (opened by its warm-up at start).
connections() { sql "SELECT count(*) FROM pg_stat_activity WHERE datname = '$dbname' AND application_name = 'fleet-receiver'"; }
all_open() { test "$(connections)" -ge 10; }
wait_for 30 all_open
admin=$("$receiver" tokens add --db "$db" --admin 2>/dev/null)
killed=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$dbname' AND application_name = 'fleet-receiver'")
expect_eq "the receivers' connections terminated (writer, key reader, /metrics, dashboard x2 each)" 10 "$killed"
fleet_page() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin" "http://127.0.0.1:$port_a/v1/fleet"; }
fleet_page_ok() { test "$(fleet_page)" = 200; }
wait_for 10 fleet_page_ok
expect_eq "the dashboard reads again after the kill (it reconnects)" 200 "$(fleet_page)"
fleet_read_ok() { curl -s "http://127.0.0.1:$port_a/metrics" | grep -q '^fleet_receiver_fleet_read_ok 1$'; }
wait_for 10 fleet_read_ok
expect_eq "/metrics reads the fleet's state again after the kill (it reconnects)" 0 $?
expect_eq "healthz after the kill (a)" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_a/healthz")"
expect_eq "a replay to b after the kill" 200 "$(post "$port_b" "$work/records" "$work/replay")"
expect_eq "... all duplicates" "[$n,0,$n]" "$(jq -c '[.ack_seq,.stored,.duplicates]' "$work/replay")"
expect_eq "... nothing stored twice" "$n" "$(sql 'SELECT count(*) FROM records')"

# A revocation through the database reaches both receivers: from a time before the records
# were signed, so they are refused (records signed before it would still count).
"$receiver" nodes revoke --db "$db" --node test-node --at 2020-01-01 --reason "node retired" >/dev/null
expect_eq "nodes revoke" 0 $?
expect_eq "revoked: 403 from a" 403 "$(post "$port_a" "$work/batch.00" "$work/r")"
expect_match "... with the reason" "revoked since 2020-01-01T00:00:00Z \\(node retired\\)" "$(jq -r .error "$work/r")"
expect_eq "revoked: 403 from b" 403 "$(post "$port_b" "$work/batch.00" "$work/r")"

for pid in "${servers[@]}"; do kill -TERM "$pid"; done
rcs=""
for pid in "${servers[@]}"; do wait "$pid"; rcs+="$? "; done
servers=()
expect_eq "SIGTERM: both exit cleanly" "0 0" "$(xargs <<<"$rcs")"

finish
