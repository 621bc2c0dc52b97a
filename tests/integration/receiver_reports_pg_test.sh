#!/bin/bash
# The monthly reports on PostgreSQL: the scenario of receiver_reports_test.sh (a registry
# imported from YAML, a real agent pushing a whole October to a real receiver, here one
# serving a postgresql:// database) with the same checks figure by figure; then the same
# records replayed to a receiver on SQLite (keeping their receive times), and every report
# (uptime and statement; JSON, CSV and table; September to November; other options) and
# the operator list must be the same text from both databases. An unreachable database is
# one error line and exit 1. Needs the server at FLEET_TEST_PG_URL (ctest's fixture pg);
# skipped without it.
set -uo pipefail
here=$(dirname "$0")
source "$here/receiver_reports_test.sh"  # its functions only (and assert.sh, push_pair.sh)
pair_require
base_url=${FLEET_TEST_PG_URL:-}
[[ -n $base_url ]] || { echo "SKIPPED: FLEET_TEST_PG_URL is unset (ctest fixture pg starts a server)"; exit 77; }
command -v psql >/dev/null || { echo "SKIPPED: psql is not installed"; exit 77; }
psql -X -q -d "$base_url" -c 'SELECT 1' >/dev/null 2>&1 ||
  { echo "SKIPPED: no PostgreSQL server at $base_url"; exit 77; }

dbname=fleet_reports_$$
pgdb=$(sed -E "s|^(postgres(ql)?://[^/]*)/[^?]*|\1/$dbname|" <<<"$base_url")
replica_pid=
cleanup() {
  pair_down
  [[ -n $replica_pid ]] && kill -9 "$replica_pid" 2>/dev/null
  psql -X -q -d "$base_url" -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT
psql -X -q -d "$base_url" -c "CREATE DATABASE $dbname" >/dev/null || { echo "cannot create $dbname"; exit 1; }
pg() { psql -X -qAt -d "$pgdb" -c "$1"; }

PAIR_REGISTER=0 pair_up "$(mktemp -d /var/tmp/fleet-reports-pg.XXXXXX)" || { echo "cannot set up"; exit 1; }
# The pair's receiver serves PostgreSQL; push_pair.sh reads its watermark through this.
receiver_start() {
  "$FLEET_RECEIVER" serve --listen "127.0.0.1:$receiver_port" --db "$pgdb" \
    >>"$pair/receiver.log" 2>&1 &
  receiver_pid=$!
  wait_for 10 curl -sf "http://127.0.0.1:$receiver_port/healthz" -o /dev/null
}
receiver_sql() { pg "$1"; }

reports_registry_yaml
reports_registry_checks "$pgdb" pg 'select count(*) from operators'
expect_eq "the registry tables come with migration 2 (4: typed columns of records, 5: acks, 6: alerting, 7: revocations, 8: remediations, 9: rotated keys, 10: enrolment, 12: closed statements, 13: dashboard access)" "1 2 3 4 5 6 7 8 9 10 12 13" \
  "$(pg 'select version from schema_migrations order by version' | tr '\n' ' ' | sed 's/ $//')"
reports_push_october
reports_month_checks "$pgdb"
agent_stop
receiver_stop

# The same records into a SQLite receiver, through its HTTP API, in the agent's batches.
sqlite_db=$pair/replica.db
out=$(R registry import --db "$sqlite_db" "$pair/registry.yaml")
expect_eq "registry import into SQLite" 0 $?
pg "select jws from records order by node, epoch, seq" >"$pair/records.jws"
stored=$(pg "select count(*) from records")
expect_eq "every record exported" "$stored" "$(wc -l <"$pair/records.jws")"
replica_port=$(free_port)
"$FLEET_RECEIVER" serve --listen "127.0.0.1:$replica_port" --db "$sqlite_db" >>"$pair/replica.log" 2>&1 &
replica_pid=$!
wait_for 10 curl -sf "http://127.0.0.1:$replica_port/healthz" -o /dev/null || fail "SQLite receiver did not start"
split -l 500 -d -a 4 "$pair/records.jws" "$pair/batch."
statuses=$(for f in "$pair"/batch.*; do
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H 'Content-Type: application/x-ndjson' \
    --data-binary @"$f" "http://127.0.0.1:$replica_port/v1/records"
done | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
expect_match "every batch taken by the SQLite receiver" "^200x[0-9]+ $" "$statuses"
kill "$replica_pid" && wait "$replica_pid" 2>/dev/null
replica_pid=
expect_eq "SQLite holds what PostgreSQL holds" "$stored" \
  "$(sqlite3 -readonly "$sqlite_db" 'select count(*) from records')"
by_type="select type, count(*) from records group by type order by type"
expect_eq "... of each type" "$(pg "$by_type" | tr '\n' ' ')" \
  "$(sqlite3 -readonly "$sqlite_db" "$by_type" | tr '\n' ' ')"
# The replay arrived later: the records (and acks, judged live or late by it) keep the
# times PostgreSQL received them at.
pg "select format('UPDATE records SET received_at = %s WHERE node = %L AND epoch = %s AND seq = %s;',
    received_at, node, epoch, seq) from records" >"$pair/received.sql"
pg "select format('UPDATE acks SET received_at = %s, live = %s WHERE node = %L AND epoch = %s AND seq = %s;',
    received_at, live::int, node, epoch, seq) from acks" >>"$pair/received.sql"
{ echo "BEGIN;"; cat "$pair/received.sql"; echo "COMMIT;"; } | sqlite3 "$sqlite_db"
expect_eq "... received when PostgreSQL received them" "$(pg "select sum(received_at) from records")" \
  "$(sqlite3 -readonly "$sqlite_db" "select sum(received_at) from records")"

# Same rules, same results: every report from both databases, as text.
same() {  # same WHAT ARGS...: the command's output and exit code on both databases
  local a b
  a=$(R "$@" --db "$sqlite_db" 2>&1; echo "exit $?")
  b=$(R "$@" --db "$pgdb" 2>&1; echo "exit $?")
  if [[ "$a" == "$b" ]]; then
    pass "same on SQLite and PostgreSQL: $* ($(wc -l <<<"$a") lines)"
  else
    fail "$* differs between SQLite and PostgreSQL:"$'\n'"$(diff <(echo "$a") <(echo "$b") | head -20)"
  fi
}
same operators list --json
same operators list
for month in 2026-09 2026-10 2026-11; do
  for report in uptime statement; do
    same "$report" --month "$month" --json
    same "$report" --month "$month" --csv
    same "$report" --month "$month"
  done
done
same uptime --month 2026-10 --json --live-within 30d
same statement --month 2026-10 --json --late-minutes ignore
expect_eq "the JSON compared is the checked one" 44194 \
  "$(R uptime --db "$sqlite_db" --month 2026-10 --json | jq '.nodes[]|select(.node=="test-node")|.up')"

# A change made on one side shows: the comparison is not blind.
R operators add --db "$pgdb" --id op-4 --name Di --since 2026-10-15 >/dev/null
expect_eq "operators add on PostgreSQL" 0 $?
expect_eq "... listed" "op-1 op-2 op-3 op-4" "$(R operators list --db "$pgdb" --json | jq -r '[.[].id]|join(" ")')"
R referrals add --db "$pgdb" --partner op-2 --referred op-4 --date 2026-10-15 >/dev/null
expect_eq "referrals add on PostgreSQL" 0 $?
expect_eq "... listed" '["op-4"]' "$(R operators list --db "$pgdb" --json | jq -c '.[]|select(.id=="op-2")|.referred')"
expect_eq "statements now differ" 1 \
  "$(cmp -s <(R statement --db "$sqlite_db" --month 2026-10 --json) <(R statement --db "$pgdb" --month 2026-10 --json); echo $?)"

nowhere="postgresql:///none?host=$pair/nowhere&port=1"
for cmd in "uptime --month 2026-10" "statement --month 2026-10 --json" "operators list" \
  "operators add --id op-5 --name E --since 2026-10-01" \
  "referrals add --partner op-1 --referred op-5 --date 2026-10-01" \
  "registry import $pair/registry.yaml"; do
  # shellcheck disable=SC2086
  err=$(R $cmd --db "$nowhere" 2>&1 >/dev/null)
  expect_eq "$cmd on an unreachable database: runtime error" 1 $?
  expect_match "... one line saying why" "^fleet-receiver: postgresql: cannot connect: [^"$'\n'"]*$" "$err"
done
R uptime --db "$pgdb" --month 2026-13 2>/dev/null
expect_eq "bad month on PostgreSQL: usage error" 2 $?
finish
