#!/usr/bin/env bash
# From a fault to the operator's message: how long after a tmux session is killed, or the
# gateway process dies, the alert reaches Telegram (the fake chat server on loopback,
# tests/integration/fakes/fake_chat.py, which stamps each call with its arrival time).
# `fleet-agent run` checks every `interval` (1 s here) and waits `confirm` (0 s here) before
# telling anyone, so a fault waits up to one interval to be seen: the figure that is the
# agent's own is the latency minus interval and confirm (target: under 1 s). Prints the
# median, p90 and max of both over RUNS faults of each kind. No root; nothing left behind.
#   bash bench/alert_latency_bench.sh                     # builds Release in build-bench
#   RUNS=20 FLEET_AGENT=build/fleet-agent bash bench/alert_latency_bench.sh
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-10}
if [[ -z "${FLEET_AGENT:-}" ]]; then
  build=${BENCH_BUILD_DIR:-$src/build-bench}
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLEET_TESTS=OFF >/dev/null
  cmake --build "$build" -j "${BUILD_JOBS:-$(nproc)}" --target fleet-agent >/dev/null
  FLEET_AGENT=$build/fleet-agent
fi
agent=$FLEET_AGENT
for tool in python3 jq curl tmux; do
  command -v $tool >/dev/null || { echo "alert_latency_bench: needs $tool"; exit 1; }
done
source "$src/tests/integration/lib/fake_chat.sh"

work=$(mktemp -d /tmp/fleet-alert-bench.XXXXXX)
home=$work/home
socket=$work/tmux/sock
daemon=""
gateway_pid=""
cleanup() {
  [[ -n "$daemon" ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  [[ -n "$gateway_pid" ]] && kill -- "-$gateway_pid" 2>/dev/null
  tmux -S "$socket" kill-server 2>/dev/null
  fake_chat_stop
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/bin" "$work/tmux" "$work/state" "$home/cron"
chmod 700 "$work/tmux"
printf '#!/bin/bash\nwhile :; do sleep 3600; done\n' >"$work/bin/hermes"
chmod +x "$work/bin/hermes"
echo '{"jobs": [], "updated_at": "2026-01-01T00:00:00+00:00"}' >"$home/cron/jobs.json"

start_session() { tmux -S "$socket" new-session -d -s BURN "$work/bin/hermes chat --yolo"; }
start_gateway() {  # a stand-in the gateway check finds by gateway.pid and gateway_state.json
  setsid "$work/bin/hermes" gateway run </dev/null >/dev/null 2>&1 &
  gateway_pid=$!
  local start_time
  while [[ ! -r /proc/$gateway_pid/stat ]]; do sleep 0.01; done
  start_time=$(sed 's/.*) //' "/proc/$gateway_pid/stat" | awk '{print $20}')
  local record="\"pid\": $gateway_pid, \"kind\": \"hermes-gateway\", \"argv\": [\"hermes\", \"gateway\", \"run\"], \"start_time\": $start_time"
  echo "{$record}" >"$home/gateway.pid"
  echo "{$record, \"gateway_state\": \"running\", \"exit_reason\": null, \"active_agents\": 1, \"platforms\": {}, \"updated_at\": \"$(date -u +%Y-%m-%dT%H:%M:%S+00:00)\"}" \
    >"$home/gateway_state.json"
}
start_session
start_gateway

fake_chat_start "$work" --telegram-token 42:BENCH || exit 1
printf '42:BENCH\n' >"$work/telegram.token"
chmod 600 "$work/telegram.token"
cat >"$work/agent.yaml" <<YAML
node: {id: bench-node}
hermes: {home: $home}
state_dir: $work/state
checks:
  tmux: {socket: $socket, expect: [BURN], interval: 1s, timeout: 1s}
  gateway: {units: [hermes-gateway], interval: 1s, timeout: 1s}
  disk: {enabled: false}
  cron: {enabled: false}
  dispatch: {enabled: false}
alerts:
  telegram: {token_file: $work/telegram.token, chat_id: "-100", poll: false, api_base: "$FAKE_CHAT_URL"}
  confirm: 0s
  flapping: {changes: 100, window: 1m}   # faults made on purpose, back to back
YAML
"$agent" run --config "$work/agent.yaml" 2>"$work/daemon.log" &
daemon=$!
until "$agent" status --state-dir "$work/state" --json 2>/dev/null | jq -e '.ready' >/dev/null; do
  kill -0 "$daemon" || { cat "$work/daemon.log"; exit 1; }
  sleep 0.1
done

sends() { curl -sS "$FAKE_CHAT_URL/_fake/calls" | jq -c '[.[] | select(.path | endswith("/sendMessage"))]'; }
# Waits for sendMessage number $1 (1-based) whose text matches $2; prints its arrival time.
await_message() {
  local n=$1 pattern=$2 until=$((SECONDS + 30)) calls
  while ((SECONDS < until)); do
    calls=$(sends)
    if (($(jq length <<<"$calls") >= n)); then
      jq -e --arg p "$pattern" ".[$((n - 1))].body.text | test(\$p)" <<<"$calls" >/dev/null ||
        { echo "message $n is not /$pattern/: $(jq -r ".[$((n - 1))].body.text" <<<"$calls")" >&2; exit 1; }
      jq ".[$((n - 1))].time" <<<"$calls"
      return 0
    fi
    sleep 0.02
  done
  echo "no message $n within 30 s" >&2
  exit 1
}

declare -a tmux_ms gateway_ms
count=0
# Telegram allows a bot about 20 messages a minute in a group, and the sender keeps to it
# (alerting/send_pace.h: a burst of 20, then one per 3 s); two messages per fault, so a
# pause of 6 s between faults keeps this a measure of one fault, not of the pacing.
for ((i = 0; i < runs; i++)); do
  ((i == 0)) || sleep 6
  fault=$EPOCHREALTIME
  tmux -S "$socket" kill-session -t BURN
  at=$(await_message $((count + 1)) 'CRITICAL: tmux')
  tmux_ms+=("$(jq -n "($at - $fault) * 1000 | floor")")
  start_session
  await_message $((count + 2)) 'RESOLVED: tmux' >/dev/null
  count=$((count + 2))
  sleep 6

  fault=$EPOCHREALTIME
  kill -- "-$gateway_pid"
  at=$(await_message $((count + 1)) 'CRITICAL: gateway')
  gateway_ms+=("$(jq -n "($at - $fault) * 1000 | floor")")
  start_gateway
  await_message $((count + 2)) 'RESOLVED: gateway' >/dev/null
  count=$((count + 2))
done

# median p90 max of the numbers given, and the same less interval + confirm (1000 ms)
stats() {
  printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {
    m = v[int((NR + 1) / 2)]; p = v[int(NR * 0.9 + 0.999)]; x = v[NR];
    printf "%6d %6d %6d   %6d %6d %6d\n", m, p, x, m - 1000, p - 1000, x - 1000 }'
}
echo "fault to message at the fake chat, ms, $runs faults each (interval 1 s, confirm 0 s)"
echo "                  latency: median    p90    max   less interval+confirm: median p90 max"
printf 'tmux session killed       '; stats "${tmux_ms[@]}"
printf 'gateway process died      '; stats "${gateway_ms[@]}"
