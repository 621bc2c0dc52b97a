#!/bin/bash
# TLS to the upstream (a TLS proxy in front of the receiver, as nginx would be): a server
# certificate the agent does not trust, or a pinned key that does not match, means not one
# byte of a record is sent; the right CA and pin deliver everything. Also shows that SIGHUP
# applies a new upstream section.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
command -v openssl >/dev/null || { echo "SKIPPED: openssl is not installed"; exit 77; }
pair_setup
status_has() { agent_status_json | jq -e "$1" >/dev/null; }

pki=$pair/pki
mkdir -p "$pki"
make_ca() {  # make_ca NAME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$1" -keyout "$pki/$1.key" -out "$pki/$1.pem" 2>/dev/null
}
make_ca test-ca
make_ca other-ca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/test-ca.pem" -CAkey "$pki/test-ca.key" \
  -CAcreateserial -days 2 -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null
pin="sha256//$(openssl x509 -in "$pki/server.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)"
wrong_pin="sha256//$(head -c 32 /dev/urandom | base64)"

proxy_port=$(free_port)
python3 "$here/lib/chaos_proxy.py" --listen "$proxy_port" --upstream "http://127.0.0.1:$receiver_port" \
  --log "$pair/proxy.log" --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
  >"$pair/proxy.out" 2>&1 &
proxy_pid=$!
wait_for 10 grep -q listening "$pair/proxy.out" || fail "TLS proxy did not start"
touch "$pair/proxy.log"
receiver_start || fail "receiver did not start"
url="https://127.0.0.1:$proxy_port"
spool_fill 100

# reload N: SIGHUP, then wait until the agent says it applied reload N (status .reloads),
# so what follows is about the new configuration, not the old one still running.
reload() {
  kill -HUP "$agent_pid"
  wait_for 10 status_has ".reloads == $1"
  expect_eq "reload $1 applied" 0 $?
}

nothing_sent() {  # nothing_sent WHAT ERROR_REGEX: two more failed attempts from now, that error
  local before
  before=$(agent_status_json | jq '.push.failures_in_a_row // 0')
  wait_for 15 status_has ".push.failures_in_a_row >= $before + 2 and (.push.last_error | test(\"$2\"))"
  expect_eq "$1: the agent keeps failing" 0 $?
  expect_eq "$1: no request reached the server" 0 "$(grep -c . "$pair/proxy.log")"
  expect_eq "$1: no record at the receiver" 0 "$(receiver_sql 'select count(*) from records')"
  expect_match "$1: the error says why" "$2" "$(agent_status_json | jq -r .push.last_error)"
}

agent_config "$url" "  ca_file: $pki/other-ca.pem"
agent_start
nothing_sent "certificate from an untrusted CA" "certificate"

agent_config "$url"
reload 1
nothing_sent "system trust store (the test CA is not in it)" "certificate"

agent_config "$url" "  ca_file: $pki/test-ca.pem
  pinned_pubkey: \"$wrong_pin\""
reload 2
nothing_sent "trusted CA, wrong pinned key" "pinned public key"

agent_config "$url" "  ca_file: $pki/test-ca.pem
  pinned_pubkey: \"$pin\""
reload 3
wait_for 30 all_delivered
expect_eq "trusted CA and the right pin: delivered" 0 $?
expect_exactly_once "over TLS"
finish
