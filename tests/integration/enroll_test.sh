#!/bin/bash
# A node's identity for its whole life, end to end over loopback with TLS (the receiver's
# own, serve --tls-cert/--tls-key, as the package runs it): the foundation issues a one-time
# token, the node enrols with it (no key copied by hand, no upstream.url in its YAML) and pushes,
# rotates its key twice, is revoked; the attacks are refused and the honest node loses
# nothing; every record verifies with the npm package jose given the registered keys in
# order (that part is skipped, saying so, when jose cannot be installed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
command -v openssl >/dev/null || { echo "SKIPPED: openssl is not installed"; exit 77; }
PAIR_REGISTER=0 pair_setup

pki=$pair/pki
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=test-ca" \
  -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null
"$FLEET_RECEIVER" serve --listen "127.0.0.1:$receiver_port" --db "$receiver_db" \
  --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" >>"$pair/receiver.log" 2>&1 &
receiver_pid=$!
url="https://127.0.0.1:$receiver_port"
wait_for 10 curl -sf --cacert "$pki/ca.pem" "$url/healthz" -o /dev/null ||
  fail "the receiver did not start with TLS"

# The node's configuration names no upstream.url: enrolment keeps it in the state directory.
write_config() {  # write_config FILE NODE STATE_DIR
  cat >"$1" <<YAML
node: {id: $2}
state_dir: $3
checks:
  tmux: {enabled: false}
  gateway: {enabled: false}
  cron: {enabled: false}
  dispatch: {enabled: false}
  disk: {paths: [/], interval: 1s}
uptime: {require: [disk]}
upstream:
  ca_file: $pki/ca.pem
  backoff_cap: 2s
  refused_retry: 3s
YAML
}
write_config "$pair/agent.yaml" test-node "$pair/state"
enroll() {  # enroll CONFIG TOKEN [ARGS]: fleet-agent enroll's output, and its status on the last line
  local config=$1 token=$2
  shift 2
  "$FLEET_AGENT" enroll "$url" --token "$token" --config "$config" "$@" 2>&1
  echo "exit $?"
}
token() { "$FLEET_RECEIVER" enroll-token --db "$receiver_db" --operator op-1 "$@" 2>/dev/null; }

# Enrolment, and what is refused.
out=$(enroll "$pair/agent.yaml" "not-a-token")
expect_match "an unknown token is refused" "refused \\(403\\): unknown token.*exit 1$" "$out"
t1=$(token --node test-node --ttl 1h)
expect_match "enroll-token prints a token" '^[A-Za-z0-9_-]{43}$' "$t1"
out=$(enroll "$pair/agent.yaml" "$t1" --node other-node)
expect_match "--node must be the configured node id" "set node.id: other-node.*exit 3$" "$out"
out=$(enroll "$pair/agent.yaml" "$t1")
expect_match "the node enrols with its token over TLS" \
  "enrolled node test-node for operator op-1 \\(kid $(jq -r .kid "$pair/node.jwk")\\) at $url.*exit 0$" "$out"
expect_eq "the upstream is kept in the state directory" "$url" "$(jq -r .url "$pair/state/upstream.json")"
expect_eq "the token is stored as its digest only" 0 \
  "$(receiver_sql "select count(*) from enrol_tokens where token_hash = '$t1'")"

mkdir -p "$pair/other"
write_config "$pair/other.yaml" other-node "$pair/other/state"
out=$(enroll "$pair/other.yaml" "$t1")
expect_match "a token used once is refused" "refused \\(403\\): token already used at .*exit 1$" "$out"
mkdir -p "$pair/other/state" && cp "$pair/state/node.key" "$pair/other/state/node.key"
out=$(enroll "$pair/other.yaml" "$(token)")
expect_match "a second node with the first node's key is refused: one key, one node" \
  "refused \\(409\\): this public key .* a key may belong to one node only.*exit 1$" "$out"
wait_for 5 grep -q "enrolment: .* sent, as node other-node, the public key of a registered node" \
  "$pair/receiver.log"
expect_eq "... and the receiver logs it for the foundation" 0 $?
expect_eq "only the honest node is registered" "test-node" \
  "$("$FLEET_RECEIVER" nodes list --db "$receiver_db" --json | jq -r '[.[].node] | join(",")')"

# It pushes without an upstream.url in its YAML.
agent_start
spool_fill 5 $(($(date +%s) / 60 - 100))
wait_for 30 all_delivered
expect_eq "the enrolled node pushes, everything acknowledged" 0 $?

# Two rotations; records made with each key are acknowledged.
for i in 1 2; do
  "$FLEET_AGENT" rotate-key --config "$pair/agent.yaml" >>"$pair/rotate.log" 2>&1
  expect_eq "rotation $i" 0 $?
  spool_fill 3 $(($(date +%s) / 60 - 90 + 10 * i))
  wait_for 30 all_delivered
  expect_eq "... everything acknowledged after it" 0 $?
done
expect_eq "the receiver knows three keys of the node" 3 \
  "$("$FLEET_RECEIVER" nodes list --db "$receiver_db" --json | jq '.[0].keys | length')"

# Attacks on rotation, by someone holding the node's first (retired) key: a key_rotate to a
# key of theirs is refused (that key moved already), and so is what it signs after its move.
# (node.key.<kid> is gone once the moves are acknowledged; the copy made for the other node
# is the first key.) Its records are dated the next minute: after its move.
mkdir -p "$pair/attacker"
cp "$pair/other/state/node.key" "$pair/attacker/node.key"
"$FLEET_SPOOL_FILL" "$pair/attacker" test-node 2 $(($(date +%s) / 60 + 1)) >/dev/null 2>&1
sqlite3 -readonly "$pair/attacker/history.db" "select jws from records order by seq" >"$pair/attack.jws"
code=$(curl -s -o "$pair/attack.out" -w '%{http_code}' --cacert "$pki/ca.pem" \
  -H 'Content-Type: application/x-ndjson' --data-binary @"$pair/attack.jws" "$url/v1/records")
expect_eq "records signed now by the retired first key are refused" 400 "$code"
expect_match "... naming the key it moved to" "was replaced by kid" "$(cat "$pair/attack.out")"

# Revoked: what it signs after the revocation time is refused (403), what before still counts.
"$FLEET_RECEIVER" nodes revoke --db "$receiver_db" --node test-node --reason "left the program" \
  >/dev/null
expect_eq "nodes revoke" 0 $?
spool_fill 1 $(($(date +%s) / 60 + 2))  # dated after the revocation
wait_for 30 bash -c "'$FLEET_AGENT' status --state-dir '$pair/state' --json | jq -e '.push.state == \"revoked\"' >/dev/null"
expect_eq "after the revocation the node is refused" 0 $?
stored=$(receiver_sql "select count(*) from records where node='test-node' and epoch=1")
expect_eq "nothing it signed before is lost: all but what it keeps spooled is stored" \
  "$(($(agent_made) - $(agent_spooled)))" "$stored"
[[ $(agent_spooled) -ge 1 ]] || fail "the record dated after the revocation left the spool"
expect_eq "no fork, nothing set aside" "0 0" \
  "$(receiver_sql 'select count(*) from forks') $(agent_sql 'select count(*) from refused_records')"

# Enrolment attempts are bounded per address: 10 a minute.
codes=""
for i in $(seq 1 12); do
  codes+="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.pem" -X POST "$url/v1/enroll/nonce") "
done
expect_match "more than 10 enrolment attempts a minute from one address: 429" "429" "$codes"

# Every stored record verifies with jose, given the registered keys in order.
"$FLEET_RECEIVER" nodes list --db "$receiver_db" --json | jq '.[0].keys' >"$pair/keys.json"
receiver_sql "select jws from records where node='test-node' and epoch=1 order by seq" >"$pair/records.jws"
if (cd "$pair" && npm init -y >/dev/null 2>&1 && npm install --no-audit --no-fund jose@5 >npm.log 2>&1); then
  cp "$here/jose/verify_keys.mjs" "$pair/"
  out=$(cd "$pair" && node verify_keys.mjs keys.json records.jws 2>&1)
  expect_eq "jose verifies every record with the registered keys in order" 0 $?
  expect_match "... through both rotations" "jose verified $stored records over 3 keys" "$out"
elif [[ -n "${FLEET_NO_SKIP:-}" ]]; then
  tail -n 20 "$pair/npm.log"
  fail "npm install jose@5 failed: the records were not checked with jose (no skip under the test command)"
else
  echo "SKIPPED (part): npm install jose@5 failed; the records were not checked with jose"
fi
finish
