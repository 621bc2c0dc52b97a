#!/bin/bash
# The receiver's own TLS (serve --tls-cert/--tls-key), no proxy: the agent's CA file and
# pinned key work against it (a wrong pin sends nothing, the right one delivers everything);
# a renewed certificate (same key, so the pin holds) is served after SIGHUP while pushes go
# on; a bad pair on SIGHUP is one clear error and the old certificate stays in use; plain
# HTTP on the port gets a 400; TLS 1.1 is refused.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
command -v openssl >/dev/null || { echo "SKIPPED: openssl is not installed"; exit 77; }
pair_setup
status_has() { agent_status_json | jq -e "$1" >/dev/null; }

pki=$pair/pki
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=test-ca" -keyout "$pki/test-ca.key" -out "$pki/test-ca.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$pki/server.key" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/ext"
issue() {  # issue SERIAL: a server certificate for the same key, from the test CA
  openssl req -new -key "$pki/server.key" -subj "/CN=127.0.0.1" -out "$pki/server.csr" 2>/dev/null
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/test-ca.pem" -CAkey "$pki/test-ca.key" \
    -set_serial "$1" -days 2 -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null
}
issue 1001
pin="sha256//$(openssl pkey -in "$pki/server.key" -pubout -outform der |
  openssl dgst -sha256 -binary | base64)"
wrong_pin="sha256//$(head -c 32 /dev/urandom | base64)"

url="https://127.0.0.1:$receiver_port"
"$FLEET_RECEIVER" serve --listen "127.0.0.1:$receiver_port" --db "$receiver_db" \
  --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" >>"$pair/receiver.log" 2>&1 &
receiver_pid=$!
wait_for 10 curl -sf --cacert "$pki/test-ca.pem" "$url/healthz" -o /dev/null ||
  fail "receiver did not serve HTTPS: $(cat "$pair/receiver.log")"
# The serial of the certificate a new handshake gets now.
served_serial() {
  openssl s_client -connect "127.0.0.1:$receiver_port" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null
}
expect_eq "the first certificate is served" "serial=03E9" "$(served_serial)"

plain=$(curl -s -o "$pair/plain.body" -w '%{http_code}' "http://127.0.0.1:$receiver_port/healthz")
expect_eq "plain HTTP on the TLS port: 400" 400 "$plain"
expect_match "plain HTTP on the TLS port: says why" "use https://" "$(cat "$pair/plain.body")"
if openssl s_client -help 2>&1 | grep -q -- -tls1_1; then
  tls11=$(openssl s_client -connect "127.0.0.1:$receiver_port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
    </dev/null 2>&1)
  expect_match "TLS 1.1 refused by the receiver" "alert protocol version|unsupported protocol" "$tls11"
else
  pass "TLS 1.1 (this openssl cannot offer it; http_tls_test covers it)"
fi

minute=$(( $(date +%s) / 60 - 100000 ))
spool_fill 100 $minute; minute=$((minute + 100))
# more_delivered WHAT: 50 more minutes spooled (agent stopped meanwhile), all delivered.
more_delivered() {
  agent_stop
  spool_fill 50 $minute; minute=$((minute + 50))
  agent_start
  wait_for 30 all_delivered
  expect_eq "$1" 0 $?
}
agent_config "$url" "  ca_file: $pki/test-ca.pem
  pinned_pubkey: \"$wrong_pin\""
agent_start
wait_for 15 status_has '.push.failures_in_a_row >= 2 and (.push.last_error | test("pinned public key"))'
expect_eq "wrong pin: the agent keeps failing, saying why" 0 $?
expect_eq "wrong pin: no record at the receiver" 0 "$(receiver_sql 'select count(*) from records')"

agent_config "$url" "  ca_file: $pki/test-ca.pem
  pinned_pubkey: \"$pin\""
kill -HUP "$agent_pid"
wait_for 10 status_has '.reloads == 1'
wait_for 30 all_delivered
expect_eq "trusted CA and the right pin: delivered" 0 $?
expect_exactly_once "over native TLS"

# Renewal: a new certificate for the same key, SIGHUP; pushes go on and the pin still holds.
issue 1002
kill -HUP "$receiver_pid"
wait_for 10 grep -q "SIGHUP: TLS reloaded" "$pair/receiver.log"
expect_eq "SIGHUP: reloaded" 0 $?
expect_eq "the renewed certificate is served" "serial=03EA" "$(served_serial)"
more_delivered "records still delivered after the renewal"

# A bad pair: the certificate of another key. One error; the renewed pair stays in use.
cp "$pki/server.pem" "$pki/good.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=x" \
  -keyout "$pki/x.key" -out "$pki/server.pem" 2>/dev/null
kill -HUP "$receiver_pid"
wait_for 10 grep -q "TLS not reloaded" "$pair/receiver.log"
expect_eq "bad pair: said" 0 $?
expect_eq "bad pair: said once" 1 "$(grep -c "TLS not reloaded" "$pair/receiver.log")"
expect_match "bad pair: names the key and why" "server.key .*key values mismatch" \
  "$(grep "TLS not reloaded" "$pair/receiver.log")"
expect_eq "bad pair: the previous certificate is still served" "serial=03EA" "$(served_serial)"
kill -0 "$receiver_pid" 2>/dev/null
expect_eq "bad pair: the receiver runs on" 0 $?
more_delivered "records still delivered after the bad pair"
expect_exactly_once "over native TLS, across two SIGHUPs"
cp "$pki/good.pem" "$pki/server.pem"
finish
