#!/bin/bash
# How long `fleet-agent check` takes on a realistic node, beside the same daily checks done
# the way the runbook does them by hand (tmux list-sessions, systemctl status, df -h, cat
# jobs.json) in one go. Sets up the node first: a private tmux server (session BURN with a
# window FORGE, each running a stand-in `hermes chat --yolo`), a Hermes home with ~20 cron
# jobs, a live gateway stand-in with gateway.pid/gateway_state.json, dispatch files, and a
# config naming them. Prints the median and p90 wall time of each way over RUNS runs.
#
#   bash bench/check_bench.sh                 # builds Release in build-bench, 200 runs
#   RUNS=500 FLEET_AGENT=/path/fleet-agent bash bench/check_bench.sh
# Env: RUNS (200), FLEET_AGENT (else built here), BENCH_BUILD_DIR (build-bench),
# BUILD_JOBS (nproc). Needs bash 5 (EPOCHREALTIME), tmux; runs as any user.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-200}

if [[ -z "${FLEET_AGENT:-}" ]]; then
  build=${BENCH_BUILD_DIR:-$repo/build-bench}
  log=$build/bench-build.log
  mkdir -p "$build"
  echo "building fleet-agent (Release) in $build ..." >&2
  # No -Werror: GCC 12 at -O3 warns falsely (-Wrestrict) on some string concatenations.
  if ! { cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLEET_WERROR=OFF &&
    cmake --build "$build" -j "${BUILD_JOBS:-$(nproc)}" --target fleet-agent; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "build failed (log: $log)" >&2
    exit 1
  fi
  FLEET_AGENT=$build/fleet-agent
fi
agent=$FLEET_AGENT
command -v tmux >/dev/null || { echo "tmux is needed (packaging/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fleet-bench.XXXXXX")
home=$work/hermes
socket=$work/tmux/default
gateway_pid=""
cleanup() {
  tmux -S "$socket" kill-server 2>/dev/null || true
  if [[ -n "$gateway_pid" ]]; then kill -- "-$gateway_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- the node --------------------------------------------------------------------------
mkdir -p "$work/bin" "$work/tmux" "$home/cron/output" "$home/logs"
chmod 700 "$work/tmux"
# Stand-in for the hermes CLI: a long-lived process whose command line reads like the real one.
printf '#!/bin/bash\nwhile :; do sleep 3600; done\n' >"$work/bin/hermes"
chmod +x "$work/bin/hermes"

tmux -S "$socket" new-session -d -s BURN -n chat "$work/bin/hermes chat --yolo"
tmux -S "$socket" new-window -t BURN -n FORGE "$work/bin/hermes chat --yolo"

# In a process group of its own (setsid) so cleanup ends its sleep too.
setsid "$work/bin/hermes" gateway run </dev/null >/dev/null 2>&1 &
gateway_pid=$!
sleep 0.2
stat_tail=$(sed 's/.*) //' "/proc/$gateway_pid/stat")
start_time=$(awk '{print $20}' <<<"$stat_tail")  # field 22 of /proc/PID/stat
now=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)
pid_record="\"pid\": $gateway_pid, \"kind\": \"hermes-gateway\", \"argv\": [\"hermes\", \"gateway\", \"run\"], \"start_time\": $start_time"
echo "{$pid_record}" >"$home/gateway.pid"
echo "{$pid_record, \"gateway_state\": \"running\", \"exit_reason\": null, \"active_agents\": 2, \"platforms\": {\"telegram\": {\"state\": \"connected\", \"error_code\": null, \"error_message\": null, \"updated_at\": \"$now\"}}, \"updated_at\": \"$now\"}" \
  >"$home/gateway_state.json"

# ~20 cron jobs: every 30 min, hourly, nightly; all healthy, next runs ahead.
{
  echo '{"jobs": ['
  for i in $(seq 1 20); do
    id=$(printf '%012x' $((0xa1b2c3000000 + i)))
    case $((i % 3)) in
      0) sched='{"kind": "interval", "minutes": 30, "display": "every 30m"}'; step=30 ;;
      1) sched='{"kind": "cron", "expr": "0 * * * *", "display": "0 * * * *"}'; step=60 ;;
      2) sched='{"kind": "interval", "minutes": 1440, "display": "every 1440m"}'; step=1440 ;;
    esac
    last=$(date -u -d "-$((i % 7 + 1)) min" +%Y-%m-%dT%H:%M:%S+00:00)
    next=$(date -u -d "+$((step - i % 7 - 1)) min" +%Y-%m-%dT%H:%M:%S+00:00)
    sep=$([[ $i -lt 20 ]] && echo , || true)
    cat <<EOF
  {"id": "$id", "name": "job-$i report", "prompt": "Summarise feed $i", "schedule": $sched,
   "enabled": true, "state": "scheduled", "next_run_at": "$next", "last_run_at": "$last",
   "last_status": "ok", "last_error": null, "last_delivery_error": null,
   "repeat": {"times": null, "completed": $((i * 3))}, "failure_streak": 0,
   "deliver": "telegram", "created_at": "2026-03-01T09:00:00+00:00"}$sep
EOF
  done
  echo "], \"updated_at\": \"$now\"}"
} >"$home/cron/jobs.json"
chmod 600 "$home/cron/jobs.json"
echo '{"rotation": {"last": "'"$now"'", "keys": 3}}' >"$home/fleet-dispatch-state.json"
echo '{"queue": [], "updated_at": "'"$now"'"}' >"$work/dispatch-queue.json"

cat >"$work/agent.yaml" <<EOF
hermes:
  home: $home
checks:
  tmux:
    socket: $socket
    expect: [BURN, FORGE]
  gateway:
    units: [hermes-gateway]
  disk:
    paths: [/]
  dispatch:
    files: [fleet-dispatch-state.json, $work/dispatch-queue.json]
EOF

# --- timing ----------------------------------------------------------------------------
# Wall time of one run in microseconds, from bash's own clock (no fork to read it).
micros() { echo "${EPOCHREALTIME/./}"; }
# Prints "median p90" in milliseconds of the numbers (microseconds) on stdin.
stats() {
  sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    p = v[int(NR * 0.9 + 0.999999)]
    printf "%.2f %.2f\n", m / 1000, p / 1000 }'
}

spawn_only() { /bin/true; }
agent_start_only() { "$agent" --version >/dev/null; }
agent_check() { "$agent" check --config "$work/agent.yaml" >/dev/null 2>&1 || true; }
by_hand_tmux() { tmux -S "$socket" list-sessions >/dev/null 2>&1 || true; }
by_hand_systemctl() { systemctl status --no-pager hermes-gateway >/dev/null 2>&1 || true; }
by_hand_df() { df -h >/dev/null 2>&1 || true; }
by_hand_cat() { cat "$home/cron/jobs.json" >/dev/null 2>&1 || true; }
by_hand() { by_hand_tmux; by_hand_systemctl; by_hand_df; by_hand_cat; }

time_runs() {  # FUNCTION: prints one duration per run
  local i t0 t1
  for ((i = 0; i < 3; i++)); do "$1"; done  # warm the page cache
  for ((i = 0; i < runs; i++)); do
    t0=$(micros)
    "$1"
    t1=$(micros)
    echo $((t1 - t0))
  done
}

echo "node under test (fleet-agent check --config $work/agent.yaml):"
"$agent" check --config "$work/agent.yaml" --no-color | sed 's/^/  /' || true
if command -v jq >/dev/null; then
  echo "  each check's own time in one run (--json duration_ms):"
  { "$agent" check --config "$work/agent.yaml" --json || true; } |
    jq -r '.checks[] | "    \(.name) \(.duration_ms) ms"'
fi
echo
echo "$runs runs each; wall time in ms              median      p90"
report() {  # LABEL FUNCTION
  local median p90
  read -r median p90 < <(time_runs "$2" | stats)
  printf '  %-42s %8s %8s\n' "$1" "$median" "$p90"
}
report "fleet-agent check (all 5 checks)" agent_check
report "by hand, the 4 commands in one run" by_hand
report "  tmux list-sessions" by_hand_tmux
report "  systemctl status hermes-gateway" by_hand_systemctl
report "  df -h" by_hand_df
report "  cat ~/.hermes/cron/jobs.json" by_hand_cat
report "baseline: /bin/true (starting any program)" spawn_only
report "baseline: fleet-agent --version" agent_start_only
echo "machine: $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME"), load $(cut -d' ' -f1-3 /proc/loadavg)"
