#!/bin/bash
# fleet-receiver under a fleet's load: N simulated nodes (default 1,000) push signed
# records the way the agent does (bench/receiver_load.cc), against a real `fleet-receiver
# serve` on loopback, with SQLite (WAL, synchronous=FULL) and then with PostgreSQL (a private
# server started here with fsync on, as a real one runs), each in two shapes: a backlog (R
# records per node in one batch each, as after an outage) and steady state (one record per
# request, as every minute, from STEADY_WORKERS concurrent nodes, default 200). Prints
# records/s verified and committed, batch latency p50/p99, the receiver's peak RSS and how
# its batches shared transactions. Nothing is asserted.
#   bench/receiver_load.sh [NODES] [RECORDS_PER_NODE]   (env: BACKENDS="sqlite postgres",
#   STEADY_WORKERS=200, STEADY_RECORDS=10 per node, SERVE_ARGS="--metrics off", ALERTS=1: the receiver alerts too, its
#   alert worker reading every record the load stores, a foundation webhook on loopback)
# Needs a build with tests on (cmake -DFLEET_TESTS=ON; build/bench/fleet-receiver-load).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-1000}
records=${2:-60}
build=${BUILD_DIR:-build}
steady_workers=${STEADY_WORKERS:-200}
receiver=$build/receiver/fleet-receiver
load=$build/bench/fleet-receiver-load
[[ -x "$receiver" && -x "$load" ]] || { echo "build first: cmake --build $build" >&2; exit 1; }
work=$(mktemp -d /var/tmp/fleet-load.XXXXXX)
chmod 755 "$work"  # the PostgreSQL server runs as user postgres
pid=""
pg_dir=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null
  [[ -n "$pg_dir" ]] && bash tests/integration/lib/pg_fixture.sh stop "$pg_dir" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$load" registry --nodes "$nodes" >"$work/registry.yaml"

# The receiver's CPU time (user + system, ms) so far, and what it spent per record since
# cpu_before: the load generator shares the 2 cores, so this says what one core of the
# receiver alone sustains (PostgreSQL's own server processes are not counted).
receiver_cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$pid/stat"
}
cpu_per_record() {
  local spent=$(($(receiver_cpu_ms) - cpu_before))
  awk -v ms="$spent" -v n="$1" 'BEGIN {printf "receiver CPU: %d ms for %d records, %.1f us per record (%.0f records/s per core)\n", ms, n, ms * 1000 / n, n / ((ms > 0 ? ms : 1) / 1000)}'
}

# run_load NAME DB: the two shapes against one receiver on DB.
run_load() {
  local name=$1 db=$2
  "$receiver" registry import --db "$db" "$work/registry.yaml" >/dev/null
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local alerts=()
  if [[ ${ALERTS:-0} == 1 ]]; then
    printf 'http://127.0.0.1:9/hook/bench\n' >"$work/hook.url"
    printf 'foundation: {webhook: {url_file: %s}}\nsilent_after: 3m\n' "$work/hook.url" \
      >"$work/alerts.yaml"
    alerts=(--alerts "$work/alerts.yaml")
  fi
  "$receiver" serve --listen "127.0.0.1:$port" --db "$db" --threads 2 \
    --max-connections $((steady_workers + 56)) --max-connections-per-peer 0 "${alerts[@]}" ${SERVE_ARGS:-} \
    2>"$work/$name.log" &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

  echo "== $name, backlog: $records records per node in one batch each =="
  cpu_before=$(receiver_cpu_ms)
  "$load" push --url "http://127.0.0.1:$port" --nodes "$nodes" --records "$records" --batch 500 \
    --workers 8
  cpu_per_record "$((nodes * records))"
  echo
  echo "== $name, steady state: one record per request, $steady_workers nodes at once (epoch 2) =="
  cpu_before=$(receiver_cpu_ms)
  "$load" push --url "http://127.0.0.1:$port" --nodes "$nodes" --records "${STEADY_RECORDS:-10}" --batch 1 \
    --workers "$steady_workers" --epoch 2
  cpu_per_record "$((nodes * ${STEADY_RECORDS:-10}))"
  echo
  local rss
  rss=$(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status")
  kill "$pid"
  wait "$pid" || true
  pid=""
  echo "$name: receiver peak RSS $rss; $(grep -o 'stopped (.*)' "$work/$name.log")"
  local month report
  month=$(date -u +%Y-%m)
  for report in uptime statement; do
    local t0=$EPOCHREALTIME
    "$receiver" "$report" --month "$month" --db "$db" --json >/dev/null
    echo "$name: $report --month $month over $nodes nodes: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f s", b - a}')"
  done
  echo
}

for backend in ${BACKENDS:-sqlite postgres}; do
  case $backend in
    sqlite) run_load SQLite "$work/receiver.db" ;;
    postgres)
      pg_dir=$work/pg
      if url=$(FLEET_PG_DURABLE=1 FLEET_PG_TEST_PORT=${FLEET_PG_BENCH_PORT:-54339} \
        bash tests/integration/lib/pg_fixture.sh start "$pg_dir" | tail -1) && [[ $url == postgresql* ]]; then
        run_load PostgreSQL "$url"
      else
        echo "== PostgreSQL: skipped, no private server could start: $url =="
        pg_dir=""
      fi
      ;;
  esac
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
