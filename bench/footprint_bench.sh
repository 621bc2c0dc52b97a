#!/bin/bash
# Footprint of `fleet-agent run` over time, beside Debian's monit and Prometheus
# node_exporter doing a comparable job on the same machine in the same run.
#   bench/footprint_bench.sh [SECONDS]   (default 600; the issue asks for >= 10 minutes)
#   FLEET_RECEIVER=build/receiver/fleet-receiver bench/footprint_bench.sh   (with pushing)
#   FLEET_ALERTS=1 bench/footprint_bench.sh   (with alerts to a fake Telegram and Discord on
#                                             loopback: the sender and poller threads, a
#                                             tmux session killed and restored each minute)
# Prints, for each program: RSS and private dirty memory (from /proc/PID/smaps_rollup) at
# the start of the steady state and at the end, their maximum, and CPU time per check
# cycle (fleet-agent: 1 s interval for every check). Needs root (tmpfs, apt for monit and
# prometheus-node-exporter when missing). Nothing is asserted: figures are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
agent=${FLEET_AGENT:-build/fleet-agent}
[[ -x "$agent" ]] || { echo "build first (cmake --build build) or set FLEET_AGENT" >&2; exit 1; }
for p in monit prometheus-node-exporter sqlite3 jq curl bc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$p" >/dev/null; }
done
source tests/integration/lib/node_world.sh
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; world_down; }
trap cleanup EXIT
world_up "$(mktemp -d /var/tmp/fleet-footprint.XXXXXX)"

# fleet-agent: every check each second (gateway on too: D-Bus may be absent here).
sed -i 's/gateway: {enabled: false}/gateway: {interval: 1s, timeout: 1s}/' "$world/agent.yaml"
# With FLEET_RECEIVER set, the agent also pushes its records to a real receiver on
# loopback (libcurl initialised, a batch a minute), as a node in the fleet does.
if [[ -n "${FLEET_RECEIVER:-}" ]]; then
  "$agent" keygen --state-dir "$world/state" >/dev/null
  "$agent" pubkey --jwk --state-dir "$world/state" >"$world/node.jwk"
  "$FLEET_RECEIVER" nodes add --db "$world/receiver.db" --node test-node --operator bench \
    --jwk "$world/node.jwk" >/dev/null
  "$FLEET_RECEIVER" serve --listen 127.0.0.1:19181 --db "$world/receiver.db" 2>"$world/receiver.log" &
  pids+=($!)
  printf 'upstream: {url: "http://127.0.0.1:19181"}\n' >>"$world/agent.yaml"
  echo "pushing to a fleet-receiver on 127.0.0.1:19181"
fi
if [[ -n "${FLEET_ALERTS:-}" ]]; then
  source tests/integration/lib/fake_chat.sh
  fake_chat_start "$world" --telegram-token 42:BENCH --discord-webhook 77/bench
  pids+=($FAKE_CHAT_PID)
  printf '42:BENCH\n' >"$world/telegram.token"
  printf 'https://discord.com/api/webhooks/77/bench\n' >"$world/discord.url"
  chmod 600 "$world/telegram.token" "$world/discord.url"
  cat >>"$world/agent.yaml" <<YAML
alerts:
  telegram: {token_file: $world/telegram.token, chat_id: "-100", ackers: [1], api_base: "$FAKE_CHAT_URL"}
  discord: {webhook_url_file: $world/discord.url, api_base: "$FAKE_CHAT_URL"}
  confirm: 2s
YAML
  # A fault a minute: the session killed for 10 s, then back (an alert and its recovery).
  ( while sleep 50; do
      tmux -S "$world/tmux/sock" kill-session -t BURN2 2>/dev/null
      sleep 10
      tmux -S "$world/tmux/sock" new-session -d -s BURN2 'sleep 100000'
    done ) &
  pids+=($!)
  echo "alerting to a fake Telegram and Discord on $FAKE_CHAT_URL"
fi
"$agent" run --config "$world/agent.yaml" 2>"$world/agent.log" &
agent_pid=$!; pids+=($agent_pid)

# monit: the same job by hand: the tmux server process, the file system, the cron file,
# every second.
cat >"$world/monitrc" <<EOF2
set daemon 1
set logfile $world/monit.log
set idfile $world/monit.id
set statefile $world/monit.state
check process tmux matching "tmux -S $world/tmux/sock"
check filesystem state with path $world/disk
  if space usage > 90% then alert
check file jobs with path $world/home/cron/jobs.json
  if timestamp > 1 hour then alert
check file dispatch with path $world/home/fleet-dispatch-state.json
  if timestamp > 1 hour then alert
EOF2
chmod 600 "$world/monitrc"
monit -I -c "$world/monitrc" >/dev/null 2>&1 &
monit_pid=$!; pids+=($monit_pid)

# node_exporter on a loopback port, scraped every second.
prometheus-node-exporter --web.listen-address=127.0.0.1:19100 >/dev/null 2>&1 &
exporter_pid=$!; pids+=($exporter_pid)
( while sleep 1; do curl -s -o /dev/null http://127.0.0.1:19100/metrics || true; done ) &
pids+=($!)

kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$2/smaps_rollup" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A first_rss first_dirty max_rss max_dirty last_rss last_dirty first_cpu
warmup=30
sleep "$warmup"
for name in agent monit exporter; do
  pid_var=${name}_pid; pid=${!pid_var}
  first_rss[$name]=$(kib Rss "$pid"); first_dirty[$name]=$(kib Private_Dirty "$pid")
  max_rss[$name]=${first_rss[$name]}; max_dirty[$name]=${first_dirty[$name]}
  first_cpu[$name]=$(cpu_ticks "$pid")
done
start=$SECONDS
while ((SECONDS - start < seconds)); do
  sleep 5
  for name in agent monit exporter; do
    pid_var=${name}_pid; pid=${!pid_var}
    r=$(kib Rss "$pid"); d=$(kib Private_Dirty "$pid")
    ((r > max_rss[$name])) && max_rss[$name]=$r
    ((d > max_dirty[$name])) && max_dirty[$name]=$d
    last_rss[$name]=$r; last_dirty[$name]=$d
  done
done
elapsed=$((SECONDS - start))
hz=$(getconf CLK_TCK)
printf '\n%-22s %10s %10s %10s %12s %12s %12s %14s\n' program rss_start rss_end rss_max dirty_start dirty_end dirty_max cpu_ms_per_s
for name in agent monit exporter; do
  pid_var=${name}_pid; pid=${!pid_var}
  cpu=$(( ( $(cpu_ticks "$pid") - first_cpu[$name] ) * 1000 / hz ))
  label=$name; [[ $name == agent ]] && label="fleet-agent run"; [[ $name == exporter ]] && label="node_exporter"
  printf '%-22s %8.1fMi %8.1fMi %8.1fMi %10.1fMi %10.1fMi %10.1fMi %14.2f\n' "$label" \
    "$(bc -l <<<"${first_rss[$name]}/1024")" "$(bc -l <<<"${last_rss[$name]}/1024")" "$(bc -l <<<"${max_rss[$name]}/1024")" \
    "$(bc -l <<<"${first_dirty[$name]}/1024")" "$(bc -l <<<"${last_dirty[$name]}/1024")" "$(bc -l <<<"${max_dirty[$name]}/1024")" \
    "$(bc -l <<<"$cpu/$elapsed")"
done
echo
echo "over ${elapsed}s after ${warmup}s warm-up; fleet-agent ran 5 checks every second, so"
echo "cpu_ms_per_s is also its CPU per check cycle. Heartbeats written: $(world_sql 'select count(*) from heartbeats')."
if [[ -n "${FLEET_RECEIVER:-}" ]]; then
  echo "Records at the receiver: $(sqlite3 -readonly "$world/receiver.db" 'select count(*) from records');" \
    "still in the agent's spool: $(world_sql 'select count(*) from records')."
fi
if [[ -n "${FLEET_ALERTS:-}" ]]; then
  echo "Alert messages taken by the fake chat server: $(fake_chat_calls '[.[] | select(.method != "GET" and (.path | test("sendMessage|editMessageText|webhooks")))] | length')."
fi
