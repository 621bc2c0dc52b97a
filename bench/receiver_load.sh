#!/bin/bash
# fleet-receiver under a fleet's load: N simulated nodes (default 1,000) push signed
# records the way the agent does (bench/receiver_load.cc), against a real `fleet-receiver
# serve` on loopback with SQLite, in two shapes: a backlog (R records per node in one
# batch each, as after an outage) and steady state (one record per request, as every
# minute). Prints records/s verified and committed, batch latency p50/p99, and the
# receiver's peak RSS. Nothing is asserted.
#   bench/receiver_load.sh [NODES] [RECORDS_PER_NODE]
# Needs a build with tests on (cmake -DFLEET_TESTS=ON; build/bench/fleet-receiver-load).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-1000}
records=${2:-60}
build=${BUILD_DIR:-build}
receiver=$build/receiver/fleet-receiver
load=$build/bench/fleet-receiver-load
[[ -x "$receiver" && -x "$load" ]] || { echo "build first: cmake --build $build" >&2; exit 1; }
work=$(mktemp -d /var/tmp/fleet-load.XXXXXX)
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

"$load" registry --nodes "$nodes" >"$work/registry.yaml"
"$receiver" registry import --db "$work/receiver.db" "$work/registry.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$receiver" serve --listen "127.0.0.1:$port" --db "$work/receiver.db" --threads 2 2>"$work/receiver.log" &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

echo "== SQLite, backlog: $records records per node in one batch each =="
"$load" push --url "http://127.0.0.1:$port" --nodes "$nodes" --records "$records" --batch 500 --workers 8
echo
echo "== SQLite, steady state: one record per request (epoch 2 of the same nodes) =="
"$load" push --url "http://127.0.0.1:$port" --nodes "$nodes" --records 3 --batch 1 --workers 8 --epoch 2
echo
echo "receiver peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status")," \
  "records stored: $(sqlite3 -readonly "$work/receiver.db" 'select count(*) from records')"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
