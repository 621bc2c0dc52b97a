#!/bin/bash
# fleet-receiver under abuse, over loopback: two thousand idle connections, headers and a
# body trickled a byte at a time, a record far over the size limit, a record of node A
# presented under node B's name, alg none, a body of garbage lines, replays. Each is
# refused with the right status and a log line; meanwhile a real node's batches and
# /healthz keep being answered, and the receiver's memory stays bounded.
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_require
trap 'pair_down; [[ -n "${hog_pid:-}" ]] && kill $hog_pid 2>/dev/null' EXIT
pair_up "$(mktemp -d /var/tmp/fleet-abuse.XXXXXX)" || { echo "cannot set up"; exit 1; }
ulimit -n 8192 2>/dev/null
"$FLEET_RECEIVER" serve --listen "127.0.0.1:$receiver_port" --db "$pair/receiver.db" \
  --read-timeout 3 --max-connections 256 2>"$pair/receiver.log" &
receiver_pid=$!
wait_for 10 curl -sf "http://127.0.0.1:$receiver_port/healthz" -o /dev/null || fail "receiver did not start"
url="http://127.0.0.1:$receiver_port"
rss() { awk '/VmRSS/ {print $2}' "/proc/$receiver_pid/status"; }
rss_start=$(rss)
post() {  # post FILE -> "status body"
  curl -s -o "$pair/reply" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
    --data-binary "@$1" "$url/v1/records"
}

# Real records of a real agent, to push while under attack.
spool_fill 200
"$FLEET_AGENT" records --state-dir "$pair/state" >"$pair/good.jws"
head -n 100 "$pair/good.jws" >"$pair/first.jws"

# 1. Two thousand idle connections, held open.
python3 - "$receiver_port" >"$pair/hog.out" 2>&1 <<'PY' &
import socket, sys, time
held = []
for _ in range(2000):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        held.append(s)
    except OSError:
        pass
print("opened", len(held), flush=True)
time.sleep(20)
PY
hog_pid=$!
wait_for 20 grep -q opened "$pair/hog.out"
echo "hog: $(cat "$pair/hog.out")"
start=$(date +%s%N)
code=$(post "$pair/first.jws")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "a real batch is answered while 2,000 connections idle ($ms ms)" 200 "$code"
expect_eq "and stored" 100 "$(jq .ack_seq "$pair/reply")"
expect_eq "healthz answers too" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/healthz")"

# 2. Slowloris: headers trickled, then a body trickled; both dropped at the read timeout.
trickle() {  # trickle TEXT: one byte every 0.5 s until the server closes
  python3 - "$receiver_port" "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
start = time.time()
try:
    for ch in sys.argv[2].encode():
        s.send(bytes([ch]))
        time.sleep(0.5)
        if time.time() - start > 15:
            break
    s.settimeout(5)
    print("closed" if s.recv(100) == b"" else "answered")
except OSError:
    print("closed")
print(int(time.time() - start))
PY
}
out=$(trickle "POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: 10\r\n\r\n0123456789")
expect_match "trickled request dropped by the read timeout (3 s)" "^closed" "$out"
expect_eq "well before the whole request could be sent" 1 "$(( $(tail -1 <<<"$out") < 12 ))"
code=$(post "$pair/first.jws")
expect_eq "replay of the batch: answered" 200 "$code"
expect_eq "replay: duplicates, nothing stored twice" "0 100" "$(jq -r '"\(.stored) \(.duplicates)"' "$pair/reply")"

# 3. Oversized field: a record of 100 KB (a valid line shape, too big).
python3 -c 'print("eyJhbGciOiJFZERTQSJ9." + "A" * 100000 + ".sig")' >"$pair/huge.jws"
expect_eq "a 100 KB record: 400" 400 "$(post "$pair/huge.jws")"
expect_match "and why" "record larger than 65536 bytes" "$(cat "$pair/reply")"

# 4. Node A's record presented under node B: B's name in the payload, A's key.
"$FLEET_AGENT" keygen --state-dir "$pair/b" >/dev/null
"$FLEET_AGENT" pubkey --jwk --state-dir "$pair/b" >"$pair/b.jwk"
"$FLEET_RECEIVER" nodes add --db "$pair/receiver.db" --node node-b --operator op-1 --jwk "$pair/b.jwk" >/dev/null
python3 - "$pair/good.jws" >"$pair/as_b.jws" <<'PY'
import base64, json, sys
line = open(sys.argv[1]).readline().strip()
h, p, s = line.split(".")
payload = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
payload["node"] = "node-b"
print(h + "." + base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=") + "." + s)
PY
expect_eq "a record rewritten to claim node B: 400" 400 "$(post "$pair/as_b.jws")"
expect_match "refused for its signature" "bad signature" "$(cat "$pair/reply")"

# 5. alg none, garbage lines, a body of NUL bytes.
printf '%s\n' "$(printf '{"alg":"none","kid":"x","typ":"fleet-record+jws"}' | base64 -w0 | tr '+/' '-_' | tr -d '=').e30." >"$pair/none.jws"
expect_eq "alg none: 400" 400 "$(post "$pair/none.jws")"
head -c 50000 /dev/urandom | base64 -w 120 >"$pair/garbage.txt"
expect_eq "garbage lines: 400" 400 "$(post "$pair/garbage.txt")"
head -c 4096 /dev/zero >"$pair/zeros.bin"
expect_eq "NUL bytes: 400" 400 "$(post "$pair/zeros.bin")"

# 6. Everything refused was logged, and a real node still gets through.
log=$(cat "$pair/receiver.log")
expect_match "log: the oversized record" "refused a batch \(400\): line 1: record larger than" "$log"
expect_match "log: alg none" "refused a batch \(400\): line 1: alg must be EdDSA" "$log"
code=$(post "$pair/good.jws")
expect_eq "the rest of the real node's records" 200 "$code"
expect_eq "all 200 and more stored once" "$(wc -l <"$pair/good.jws")" \
  "$(sqlite3 -readonly "$pair/receiver.db" "select count(*) from records where node='test-node'")"
rss_end=$(rss)
echo "receiver RSS: $((rss_start / 1024)) MiB at start, $((rss_end / 1024)) MiB after the abuse"
expect_eq "memory bounded (RSS under 64 MiB after 2,000 connections and the rest)" 1 "$((rss_end < 65536))"
kill "$hog_pid" 2>/dev/null
finish
