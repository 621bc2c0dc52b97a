#!/bin/bash
# fleet-receiver tokens add|list|revoke, the dashboard's access tokens: add prints the token
# alone on stdout, once, and on stderr whom it is for and when it expires; only its SHA-256
# digest is stored; list (table and JSON) never shows it; revoke ends it; wrong use is exit 2,
# an unknown operator or token exit 1. On SQLite, and on PostgreSQL with
# FLEET_RECEIVER_STORE=postgres (lib/receiver_store.sh).
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/receiver_store.sh"
[[ -n "${FLEET_RECEIVER:-}" ]] || { echo "SKIPPED: FLEET_RECEIVER is not set (run through ctest)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIPPED: python3 is not installed"; exit 77; }
[[ ${FLEET_RECEIVER_STORE:-sqlite} == sqlite ]] && ! command -v sqlite3 >/dev/null &&
  { echo "SKIPPED: sqlite3 is not installed"; exit 77; }
dir=$(mktemp -d /var/tmp/fleet-receiver-tokens.XXXXXX)
cleanup() {
  receiver_store_down
  rm -rf "$dir"
}
trap cleanup EXIT
receiver_store_up "$dir" || { echo "FAIL: no test database"; exit 1; }
R() { "$FLEET_RECEIVER" "$@"; }
digest() {  # base64url(SHA-256(text)), unpadded: how a token is stored
  python3 -c 'import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).decode().rstrip("="))' "$1"
}

# An admin token on a database not made yet (SQLite: tokens add creates it).
R tokens add --db "$receiver_db" --admin --label "foundation laptop" >"$dir/admin.out" 2>"$dir/admin.err"
expect_eq "tokens add --admin" 0 $?
admin_token=$(cat "$dir/admin.out")
expect_eq "stdout is one line" 1 "$(wc -l <"$dir/admin.out")"
expect_match "stdout is the token alone" '^fr_[A-Za-z0-9_-]{43}$' "$admin_token"
expect_match "stderr: id, whom, expiry, once" \
  '^token t-[0-9a-f]{8} for the admin \(expires [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\): shown once, keep it$' \
  "$(cat "$dir/admin.err")"
admin_id=$(grep -o 't-[0-9a-f]\{8\}' "$dir/admin.err")

# An operator's token needs the operator in the registry.
R tokens add --db "$receiver_db" --operator op-7 >"$dir/none.out" 2>"$dir/none.err"
expect_eq "an unknown operator: exit 1" 1 $?
expect_eq "nothing on stdout then" "" "$(cat "$dir/none.out")"
expect_match "it says why" 'no operator op-7' "$(cat "$dir/none.err")"
R operators add --db "$receiver_db" --id op-7 --name Seven --since 2026-01-01 >/dev/null
expect_eq "operators add" 0 $?
op_token=$(R tokens add --db "$receiver_db" --operator op-7 --label laptop --ttl 30d 2>"$dir/op.err")
expect_eq "tokens add --operator op-7" 0 $?
expect_match "the operator's token" '^fr_[A-Za-z0-9_-]{43}$' "$op_token"
expect_match "stderr names the operator" '^token t-[0-9a-f]{8} for operator op-7 \(expires ' \
  "$(cat "$dir/op.err")"
op_id=$(grep -o 't-[0-9a-f]\{8\}' "$dir/op.err")
[[ "$op_token" != "$admin_token" && "$op_id" != "$admin_id" ]] || fail "two tokens are the same"

# Usage errors: exit 2, nothing issued.
for args in "" "--operator op-7 --admin" "--admin --ttl 5x" "--admin --ttl 0s" \
  "--admin --ttl 4000d" "--operator op-7 --label $(printf 'x%.0s' {1..201})"; do
  # shellcheck disable=SC2086
  R tokens add --db "$receiver_db" $args >"$dir/bad.out" 2>"$dir/bad.err"
  expect_eq "tokens add ${args:0:40}: exit 2" 2 $?
  expect_eq "tokens add ${args:0:40}: no token printed" "" "$(cat "$dir/bad.out")"
done

# Stored as digests only.
expect_eq "two tokens stored" 2 "$(receiver_sql 'SELECT count(*) FROM access_tokens')"
expect_eq "the admin token's digest" "$admin_id" \
  "$(receiver_sql "SELECT id FROM access_tokens WHERE token_hash = '$(digest "$admin_token")'")"
expect_eq "no column holds a token's text" 0 \
  "$(receiver_sql "SELECT count(*) FROM access_tokens WHERE token_hash IN ('$admin_token', '$op_token') OR label IN ('$admin_token', '$op_token')")"
if [[ ${FLEET_RECEIVER_STORE:-sqlite} == sqlite ]]; then
  found=0
  for f in "$receiver_db"*; do grep -aqF -e "$admin_token" -e "$op_token" "$f" && found=1; done
  expect_eq "no byte of the database files holds a token" 0 "$found"
fi

# list: ids, whom, labels, state; never the token.
R tokens list --db "$receiver_db" >"$dir/list.txt"
expect_eq "tokens list" 0 $?
list=$(cat "$dir/list.txt")
expect_match "the admin's token listed" "$admin_id +\(admin\) .*never +active +foundation laptop" "$list"
expect_match "the operator's token listed" "$op_id +op-7 .* active +laptop" "$list"
grep -qF -e "$admin_token" -e "$op_token" -e "${op_token#fr_}" "$dir/list.txt" &&
  fail "tokens list shows a token"
R tokens list --db "$receiver_db" --json >"$dir/list.json"
expect_eq "tokens list --json" 0 $?
expect_eq "the JSON" "admin $admin_id True active|op-7 $op_id False active" "$(python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
print("|".join(sorted("%s %s %s %s" % (r["operator"] or "admin", r["id"], r["admin"], r["state"]) for r in rows)))
' "$dir/list.json")"
grep -qF -e "$admin_token" -e "$op_token" "$dir/list.json" && fail "tokens list --json shows a token"

# revoke.
out=$(R tokens revoke --db "$receiver_db" "$op_id")
expect_eq "tokens revoke" 0 $?
expect_match "it says so" "revoked token $op_id" "$out"
expect_match "the list shows it revoked" "$op_id +op-7 .* revoked [0-9-]{10}T" \
  "$(R tokens list --db "$receiver_db")"
expect_eq "revoked_at is set" 1 \
  "$(receiver_sql "SELECT count(*) FROM access_tokens WHERE id = '$op_id' AND revoked_at IS NOT NULL")"
out=$(R tokens revoke --db "$receiver_db" "$op_id")
expect_eq "revoking again" 0 $?
expect_match "it was revoked already" "revoked already" "$out"
R tokens revoke --db "$receiver_db" t-00000000 2>"$dir/revoke.err"
expect_eq "an unknown token: exit 1" 1 $?
expect_match "it says so" 'no token t-00000000' "$(cat "$dir/revoke.err")"
R tokens revoke --db "$receiver_db" 2>/dev/null
expect_eq "no id: exit 2" 2 $?
expect_match "the admin's token is still active" "$admin_id +\(admin\) .* active" \
  "$(R tokens list --db "$receiver_db")"
if [[ ${FLEET_RECEIVER_STORE:-sqlite} == sqlite ]]; then
  R tokens list --db "$dir/missing.db" 2>"$dir/missing.err"
  expect_eq "list on a missing database: exit 1" 1 $?
fi
finish
