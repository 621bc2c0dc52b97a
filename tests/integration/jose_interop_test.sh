#!/bin/bash
# Interoperability is part of the contract: records the daemon signs verify with a standard
# JOSE implementation (the npm package jose under Node.js) given only the public JWK that
# `fleet-agent pubkey --jwk` prints, and a tampered record is refused by it. Also checks
# `fleet-agent verify` on the same file, and on tampered, reordered and gapped copies.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
agent=${FLEET_AGENT:?}
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "SKIPPED: Node.js and npm are needed (packaging/install-deps.sh --test)"; exit 77; }
work=$(mktemp -d /var/tmp/fleet-jose.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The npm registry is the one thing here from outside the machine: when it cannot be
# reached, say so loudly and skip rather than fail the build on a network outage.
if ! (cd "$work" && npm init -y >/dev/null 2>&1 &&
  npm install --no-audit --no-fund jose@5 >npm.log 2>&1); then
  echo "SKIPPED: npm install jose@5 failed (registry unreachable?); npm said:"
  tail -n 20 "$work/npm.log"
  exit 77
fi
cp "$here/jose/verify.mjs" "$work/"

cat >"$work/agent.yaml" <<YAML
hermes: {home: $work/hermes}
checks: {tmux: {enabled: false}, disk: {interval: 1s}}
uptime: {require: [disk]}
YAML
"$agent" run --config "$work/agent.yaml" --state-dir "$work/state" 2>"$work/daemon.log" &
daemon=$!
# Until its first heartbeat (the minute it became ready in has ended), then stop: the
# records are an agent_start, a heartbeat and an agent_stop at least.
has_heartbeat() {
  [[ "$(sqlite3 -readonly "$work/state/history.db" "select count(*) from records where type = 'heartbeat'" 2>/dev/null)" -ge 1 ]]
}
wait_for 75 has_heartbeat || fail "no heartbeat within 75 s"
kill -TERM $daemon; wait $daemon
expect_match "first start creates the key and logs the public key once" \
  'created the node key .*register this public key.*"kty":"OKP"' "$(cat "$work/daemon.log")"
expect_eq "node.key is private" 600 "$(stat -c %a "$work/state/node.key")"
"$agent" pubkey --state-dir "$work/state" --jwk >"$work/node.jwk"
"$agent" records --state-dir "$work/state" >"$work/records.ndjson"
count=$(wc -l <"$work/records.ndjson")
((count >= 3)) && pass "$count signed records" || fail "too few records: $count"

out=$(cd "$work" && node verify.mjs node.jwk records.ndjson 2>&1); rc=$?
expect_eq "jose verifies every record" 0 "$rc"
expect_match "jose saw them all" "jose verified $count records" "$out"

out=$("$agent" verify "$work/records.ndjson" --jwk "$work/node.jwk"); rc=$?
expect_eq "fleet-agent verify: good file" 0 "$rc"

# Tamper with the second record's payload (one character of it), keep its signature.
tamper_line2() {  # swaps one payload character of line 2 for another valid base64url one
  awk -F. 'NR==2 { c = substr($2, 10, 1); r = (c == "A") ? "B" : "A"; $2 = substr($2, 1, 9) r substr($2, 11) } { print }' OFS=. "$1"
}
tamper_line2 "$work/records.ndjson" >"$work/tampered.ndjson"
out=$(cd "$work" && node verify.mjs node.jwk tampered.ndjson 2>&1); rc=$?
expect_eq "jose refuses a tampered record" 1 "$rc"
err=$("$agent" verify "$work/tampered.ndjson" --jwk "$work/node.jwk" 2>&1); rc=$?
expect_eq "verify: tampered exit" 1 "$rc"
expect_match "verify names the first bad line" "tampered.ndjson:2: " "$err"
awk 'NR == 2 { held = $0; next } { print } NR == 3 { print held }' "$work/records.ndjson" >"$work/reordered.ndjson"
err=$("$agent" verify "$work/reordered.ndjson" --jwk "$work/node.jwk" 2>&1)
expect_match "verify: reordered" "reordered.ndjson:2: seq 3 follows 1" "$err"
"$agent" keygen --state-dir "$work/other" >/dev/null
"$agent" pubkey --state-dir "$work/other" --jwk >"$work/other.jwk"
err=$("$agent" verify "$work/records.ndjson" --jwk "$work/other.jwk" 2>&1); rc=$?
expect_eq "verify: another node's key" 1 "$rc"
expect_match "verify: forged or foreign" "records.ndjson:1: bad signature" "$err"
err=$("$agent" keygen --state-dir "$work/state" 2>&1); rc=$?
expect_eq "keygen refuses to overwrite" 1 "$rc"
expect_match "keygen says how" "already exists.*--force" "$err"
finish
