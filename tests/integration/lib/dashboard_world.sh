# The dashboard's tests' world (dashboard_browser_test.sh, dashboard_abuse_test.sh): a real
# receiver serving HTTPS on 127.0.0.1 with a self-signed pair, two operators each with one
# node (op-7: node-7, op-8: node-8) imported from a registry YAML, and a known past month
# (DASH_MONTH, October 2026) of signed records made by fleet-spool-fill exactly as the daemon
# makes them and pushed to POST /v1/records over HTTPS by curl, as the agent would. Source it
# after assert.sh; call dash_require, then dash_up DIR (and dash_down in the trap).
# Needs FLEET_AGENT, FLEET_RECEIVER, FLEET_SPOOL_FILL (ctest sets them).
#
# Afterwards: $dash_url (https://127.0.0.1:PORT), $dash_db, $dash_work, $dash_cert (the
# certificate, its own CA: curl --cacert), $dash/node-7.jwk and node-8.jwk, dash_curl.
DASH_MONTH=2026-10
# node-7 is registered from Oct 2 (Oct 1's hours are "not registered"), reports from Oct 3
# 00:00 for 3,000 minutes, every 50th down, with three incidents (FILL_ALERTS); node-8 from
# Oct 5 00:00 for a day, all up.
DASH_NODE7_FIRST=2026-10-03T00:00:00Z
DASH_NODE7_MINUTES=3000
DASH_NODE8_FIRST=2026-10-05T00:00:00Z
DASH_NODE8_MINUTES=1440

dash_require() {
  if [[ -z "${FLEET_RECEIVER:-}" || -z "${FLEET_AGENT:-}" || -z "${FLEET_SPOOL_FILL:-}" ]]; then
    echo "SKIPPED: FLEET_RECEIVER, FLEET_AGENT and FLEET_SPOOL_FILL are not set (run through ctest)"
    exit 77
  fi
  local tool
  for tool in openssl curl jq sqlite3 python3; do
    command -v $tool >/dev/null || { echo "SKIPPED: $tool is not installed"; exit 77; }
  done
}

# dash_skip REASON: outside the test command a visible skip (77); under FLEET_NO_SKIP (the
# test command, CI) a failure, so a green CI run means the test really ran.
dash_skip() {
  if [[ -n "${FLEET_NO_SKIP:-}" && "${FLEET_NO_SKIP}" != 0 ]]; then
    fail "would skip, but FLEET_NO_SKIP is set (the test command): $1"
    finish
  fi
  echo "SKIPPED: $1"
  exit 77
}

dash_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# dash_curl ARGS...: curl against the receiver, trusting its self-signed certificate only.
dash_curl() { curl -s --cacert "$dash_cert" --max-time 20 "$@"; }

dash_minute() { echo $(($(date -u -d "$1" +%s) / 60)); }

# dash_push NODE: the node's spool (fleet-agent records) to POST /v1/records in batches of 500
# lines, each answered 200; then every record is stored.
dash_push() {
  local node=$1 chunk code lines
  "$FLEET_AGENT" records --state-dir "$dash_work/$node" >"$dash_work/$node.jws" || return 1
  lines=$(wc -l <"$dash_work/$node.jws")
  mkdir -p "$dash_work/$node.batches"
  split -l 500 "$dash_work/$node.jws" "$dash_work/$node.batches/b."
  for chunk in "$dash_work/$node.batches"/b.*; do
    code=$(dash_curl -o "$dash_work/push.reply" -w '%{http_code}' \
      -H 'Content-Type: application/x-ndjson' --data-binary "@$chunk" "$dash_url/v1/records")
    if [[ $code != 200 ]]; then
      echo "push of $node: $code $(head -c 300 "$dash_work/push.reply")" >&2
      return 1
    fi
  done
  [[ $(sqlite3 -readonly "$dash_db" "select count(*) from records where node='$node'") == "$lines" ]]
}

dash_up() {  # dash_up DIR
  dash_work=$1
  dash_db=$dash_work/receiver.db
  mkdir -p "$dash_work/pki" "$dash_work/node-7" "$dash_work/node-8"
  dash_cert=$dash_work/pki/server.pem
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$dash_work/pki/server.key" -out "$dash_cert" 2>/dev/null || return 1
  local node
  for node in node-7 node-8; do
    "$FLEET_AGENT" keygen --state-dir "$dash_work/$node" >/dev/null || return 1
    "$FLEET_AGENT" pubkey --jwk --state-dir "$dash_work/$node" >"$dash_work/$node.jwk" || return 1
  done
  cat >"$dash_work/registry.yaml" <<YAML
operators:
  - id: op-7
    name: Seven
    since: 2026-01-01
    nodes:
      - {id: node-7, jwk_file: $dash_work/node-7.jwk, added: 2026-10-02}
  - id: op-8
    name: Eight
    since: 2026-01-01
    nodes:
      - {id: node-8, jwk_file: $dash_work/node-8.jwk, added: 2026-10-01}
YAML
  "$FLEET_RECEIVER" registry import --db "$dash_db" "$dash_work/registry.yaml" >/dev/null || return 1
  dash_port=$(dash_free_port)
  dash_url="https://127.0.0.1:$dash_port"
  "$FLEET_RECEIVER" serve --listen "127.0.0.1:$dash_port" --db "$dash_db" \
    --tls-cert "$dash_cert" --tls-key "$dash_work/pki/server.key" >>"$dash_work/receiver.log" 2>&1 &
  dash_receiver_pid=$!
  wait_for 15 dash_curl -f "$dash_url/healthz" -o /dev/null || { echo "the receiver did not start"; return 1; }

  FILL_DOWN_EVERY=50 FILL_ALERTS=1 "$FLEET_SPOOL_FILL" "$dash_work/node-7" node-7 \
    "$DASH_NODE7_MINUTES" "$(dash_minute "$DASH_NODE7_FIRST")" >/dev/null || return 1
  "$FLEET_SPOOL_FILL" "$dash_work/node-8" node-8 "$DASH_NODE8_MINUTES" \
    "$(dash_minute "$DASH_NODE8_FIRST")" >/dev/null || return 1
  dash_push node-7 || { echo "node-7's records were not all stored"; return 1; }
  dash_push node-8 || { echo "node-8's records were not all stored"; return 1; }
}

# dash_token ARGS...: `fleet-receiver tokens add` (the token on stdout; its stderr, which names
# the token's id, in $dash_work/token.err).
dash_token() { "$FLEET_RECEIVER" tokens add --db "$dash_db" "$@" 2>"$dash_work/token.err"; }

dash_receiver_alive() { kill -0 "$dash_receiver_pid" 2>/dev/null; }

dash_down() {
  if [[ -n "${dash_receiver_pid:-}" ]]; then
    kill -TERM "$dash_receiver_pid" 2>/dev/null
    wait "$dash_receiver_pid" 2>/dev/null
    dash_receiver_pid=
  fi
  [[ -n "${dash_work:-}" && -z "${FLEET_KEEP_WORK:-}" ]] && rm -rf "$dash_work"
}
