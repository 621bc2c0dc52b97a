#!/bin/bash
# fleet-receiver serve --config receiver.yaml: two listen addresses, the database and TLS
# from the file; a flag given wins over the file; a bad file is refused (exit 2) with
# file:line:column before anything starts; the reports take the database and their policy
# from the same file.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
[[ -n "${FLEET_RECEIVER:-}" ]] || { echo "SKIPPED: FLEET_RECEIVER is not set (run through ctest)"; exit 77; }
for tool in curl openssl python3 sqlite3; do
  command -v $tool >/dev/null || { echo "SKIPPED: $tool is not installed"; exit 77; }
done
dir=$(mktemp -d /var/tmp/fleet-receiver-config.XXXXXX)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
port_a=$(free_port)
port_b=$(free_port)
cat >"$dir/receiver.yaml" <<YAML
listen: ["127.0.0.1:$port_a", "127.0.0.1:$port_b"]
database: $dir/receiver.db
tls: {cert: $dir/cert.pem, key: $dir/key.pem}
threads: 1
reports: {live_within: 7m, late_minutes: ignore}
metrics: off
YAML

"$FLEET_RECEIVER" serve --config "$dir/receiver.yaml" >"$dir/serve.log" 2>&1 &
pid=$!
https() { curl -sf --cacert "$dir/cert.pem" "https://127.0.0.1:$1/healthz"; }
wait_for 10 https "$port_a"
expect_eq "first address, TLS from the file" 0 $?
expect_eq "second address, TLS too" '{"ok":true}' "$(https "$port_b")"
expect_eq "the database is the file's" 1 "$([[ -f "$dir/receiver.db" ]] && echo 1)"
expect_match "the log says both and TLS" "listening on 127.0.0.1:$port_a, 127.0.0.1:$port_b with TLS" \
  "$(cat "$dir/serve.log")"
expect_eq "metrics: off in the file: no /metrics" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/cert.pem" "https://127.0.0.1:$port_a/metrics")"
kill "$pid"; wait "$pid"; pid=

# Flags win: --listen, --db and --metrics replace the file's (TLS stays from the file).
port_c=$(free_port)
"$FLEET_RECEIVER" serve --config "$dir/receiver.yaml" --listen "127.0.0.1:$port_c" \
  --db "$dir/other.db" --metrics on >"$dir/serve2.log" 2>&1 &
pid=$!
wait_for 10 https "$port_c"
expect_eq "--listen over the file's listen" 0 $?
curl -s --max-time 2 --cacert "$dir/cert.pem" "https://127.0.0.1:$port_a/healthz" >/dev/null
expect_eq "the file's addresses are not used then" 7 $?
expect_eq "--db over the file's database" 1 "$([[ -f "$dir/other.db" ]] && echo 1)"
expect_eq "--metrics on over the file's metrics: off" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/cert.pem" "https://127.0.0.1:$port_c/metrics")"
kill "$pid"; wait "$pid"; pid=

# metrics: token: GET /metrics only with an admin access token; an operator's is refused.
"$FLEET_RECEIVER" operators add --db "$dir/other.db" --id op-7 --name "Op 7" --since 2026-01-01 \
  >/dev/null
admin=$("$FLEET_RECEIVER" tokens add --db "$dir/other.db" --admin 2>/dev/null)
operator=$("$FLEET_RECEIVER" tokens add --db "$dir/other.db" --operator op-7 2>/dev/null)
"$FLEET_RECEIVER" serve --config "$dir/receiver.yaml" --listen "127.0.0.1:$port_c" \
  --db "$dir/other.db" --metrics token >"$dir/serve3.log" 2>&1 &
pid=$!
wait_for 10 https "$port_c"
scrape() {
  curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/cert.pem" "$@" \
    "https://127.0.0.1:$port_c/metrics"
}
expect_eq "metrics token: no token, 401" 401 "$(scrape)"
expect_eq "metrics token: an operator's token, 401" 401 "$(scrape -H "Authorization: Bearer $operator")"
expect_eq "metrics token: a made-up token, 401" 401 "$(scrape -H "Authorization: Bearer fr_nothing")"
expect_eq "metrics token: the admin's token, 200" 200 "$(scrape -H "Authorization: Bearer $admin")"
kill "$pid"; wait "$pid"; pid=

# A bad file: exit 2, every error with file:line:column, nothing started.
cat >"$dir/bad.yaml" <<YAML
listen: 127.0.0.1:$port_a
threads: many
tls: {cert: relative.pem, key: /k.pem}
colour: blue
YAML
out=$("$FLEET_RECEIVER" serve --config "$dir/bad.yaml" 2>&1)
expect_eq "bad file: usage error" 2 $?
expect_match "bad file: threads at 2:10" "$dir/bad.yaml:2:10: threads must be a whole number" "$out"
expect_match "bad file: tls.cert at 3:13" "$dir/bad.yaml:3:13: tls.cert must be an absolute path" "$out"
expect_match "bad file: unknown key at 4:1" "$dir/bad.yaml:4:1: unknown key 'colour'" "$out"
out=$("$FLEET_RECEIVER" config check "$dir/bad.yaml" 2>&1)
expect_eq "config check on the bad file: exit 2" 2 $?
expect_eq "config check: the three errors" 3 "$(grep -c "$dir/bad.yaml:[0-9]*:[0-9]*: " <<<"$out")"
expect_eq "config check on the good file" "$dir/receiver.yaml: valid" \
  "$("$FLEET_RECEIVER" config check "$dir/receiver.yaml")"
out=$("$FLEET_RECEIVER" serve --config "$dir/none.yaml" 2>&1)
expect_eq "missing file: usage error" 2 $?
expect_match "missing file: said" "none.yaml: cannot be read" "$out"
out=$("$FLEET_RECEIVER" serve --listen 127.0.0.1:0 2>&1)
expect_eq "neither --db nor --config: usage error" 2 $?
expect_match "neither: said" "--db or --config is required" "$out"

# The reports: the database and policy from the file; a flag wins.
"$FLEET_RECEIVER" operators add --db "$dir/receiver.db" --id op-1 --name One --since 2026-01-01 >/dev/null
json=$("$FLEET_RECEIVER" statement --config "$dir/receiver.yaml" --month 2026-11 --json 2>&1)
expect_eq "statement --config: runs" 0 $?
expect_match "statement --config: the file's database (its operator)" '"op-1"' "$json"
expect_match "statement --config: late minutes ignored, as the file says" \
  '"late_minutes_count": false' "$json"
json=$("$FLEET_RECEIVER" statement --config "$dir/receiver.yaml" --month 2026-11 --json \
  --late-minutes count 2>&1)
expect_match "statement --config --late-minutes count: the flag wins" \
  '"late_minutes_count": true' "$json"
finish
