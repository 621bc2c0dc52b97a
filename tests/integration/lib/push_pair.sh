# An agent and a receiver, both real, talking over loopback, for the push tests. Source
# it after assert.sh; call pair_setup (or pair_up DIR, and pair_down in a trap). The agent's checks are
# cheap (disk only); its records come from its own life (agent_start, heartbeats,
# agent_stop) and from fleet-spool-fill, which stands for days of minutes made while the
# upstream was away. Needs FLEET_AGENT, FLEET_RECEIVER, FLEET_SPOOL_FILL.
# The receiver's store: lib/receiver_store.sh (FLEET_RECEIVER_STORE=postgres for PostgreSQL).
source "$(dirname "${BASH_SOURCE[0]}")/receiver_store.sh"
pair_require() {
  if [[ -z "${FLEET_RECEIVER:-}" || -z "${FLEET_SPOOL_FILL:-}" ]]; then
    echo "SKIPPED: FLEET_RECEIVER and FLEET_SPOOL_FILL are not set (run through ctest)"
    exit 77
  fi
  for tool in sqlite3 jq curl python3; do
    command -v $tool >/dev/null || { echo "SKIPPED: $tool is not installed"; exit 77; }
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pair_up() {  # pair_up DIR
  pair=$1
  mkdir -p "$pair/state"
  receiver_store_up "$pair" || return 1
  "$FLEET_AGENT" keygen --state-dir "$pair/state" >/dev/null || return 1
  "$FLEET_AGENT" pubkey --jwk --state-dir "$pair/state" >"$pair/node.jwk" || return 1
  if [[ "${PAIR_REGISTER:-1}" == 1 ]]; then
    "$FLEET_RECEIVER" nodes add --db "$receiver_db" --node test-node --operator op-1 \
      --jwk "$pair/node.jwk" >/dev/null || return 1
  fi
  receiver_port=$(free_port)
}

# pair_setup [ON_EXIT]: how a push test begins: the tools it needs (or it skips), a fresh
# pair in /var/tmp, and ON_EXIT (default pair_down, which a custom one must call) at exit.
pair_setup() {
  pair_require
  trap "${1:-pair_down}" EXIT
  pair_up "$(mktemp -d /var/tmp/fleet-push.XXXXXX)" || { echo "cannot set up the pair"; exit 1; }
}

# What `fleet-agent status --json` says now (nothing while the agent has written none).
agent_status_json() { "$FLEET_AGENT" status --state-dir "$pair/state" --json 2>/dev/null; }

receiver_start() {
  "$FLEET_RECEIVER" serve --listen "127.0.0.1:$receiver_port" --db "$receiver_db" \
    >>"$pair/receiver.log" 2>&1 &
  receiver_pid=$!
  wait_for 10 curl -sf "http://127.0.0.1:$receiver_port/healthz" -o /dev/null
}
receiver_stop() {  # receiver_stop [SIGNAL]
  [[ -n "${receiver_pid:-}" ]] || return 0
  kill "-${1:-TERM}" "$receiver_pid" 2>/dev/null
  wait "$receiver_pid" 2>/dev/null
  receiver_pid=
}

# agent_config URL [YAML LINES under upstream]: disk check only, quick retries; the lines
# given replace the defaults of the same keys.
agent_config() {
  local extra=${2:-} defaults="" line
  for line in "backoff_cap: 2s" "refused_retry: 3s" "timeout: 5s" "connect_timeout: 2s"; do
    [[ $'\n'"$extra" == *$'\n'"  ${line%%:*}:"* ]] || defaults+="  $line"$'\n'
  done
  cat >"$pair/agent.yaml" <<YAML
node: {id: test-node}
state_dir: $pair/state
checks:
  tmux: {enabled: false}
  gateway: {enabled: false}
  cron: {enabled: false}
  dispatch: {enabled: false}
  disk: {paths: [/], interval: 1s}
uptime: {require: [disk]}
upstream:
  url: "$1"
$defaults$extra
YAML
}
agent_start() {
  "$FLEET_AGENT" run --config "$pair/agent.yaml" >>"$pair/agent.log" 2>&1 &
  agent_pid=$!
  wait_for 10 jq -e ".pid == $agent_pid" "$pair/state/status.json" >/dev/null
}
agent_stop() {  # agent_stop [SIGNAL]
  [[ -n "${agent_pid:-}" ]] || return 0
  kill "-${1:-TERM}" "$agent_pid" 2>/dev/null
  wait "$agent_pid" 2>/dev/null
  agent_pid=
}
spool_fill() { "$FLEET_SPOOL_FILL" "$pair/state" test-node "$@" >/dev/null; }

agent_sql() { sqlite3 -readonly "$pair/state/history.db" "$1"; }
# Records the agent has made in epoch 1 (next_seq - 1) and what is still spooled.
agent_made() { echo $(($(agent_sql "select value from meta where key='next_seq'") - 1)); }
agent_spooled() { agent_sql "select count(*) from records"; }
# The receiver's acknowledged watermark for epoch 1.
receiver_ack() {
  local ack
  ack=$(receiver_sql "select ack_seq from watermarks where node='test-node' and epoch=1")
  echo "${ack:-0}"
}
# Everything the agent made is acknowledged and gone from its spool.
all_delivered() {
  local made
  made=$(agent_made)
  [[ "$(receiver_ack)" == "$made" && "$(agent_spooled)" == 0 ]]
}

# Exactly once, in order, chain intact: the receiver holds seqs 1..N of epoch 1 once each,
# no forks, and the chain verifies with the node's public key.
expect_exactly_once() {  # expect_exactly_once WHAT
  local made stored distinct forks
  made=$(agent_made)
  stored=$(receiver_sql "select count(*) from records where node='test-node' and epoch=1")
  distinct=$(receiver_sql "select count(distinct seq) from records where node='test-node' and epoch=1 and seq between 1 and $made")
  forks=$(receiver_sql "select count(*) from forks")
  expect_eq "$1: records stored at the receiver" "$made" "$stored"
  expect_eq "$1: each seq 1..$made once" "$made" "$distinct"
  expect_eq "$1: no forks" 0 "$forks"
  receiver_sql "select jws from records where node='test-node' and epoch=1 order by seq" \
    >"$pair/received.jws"
  local verdict
  verdict=$("$FLEET_AGENT" verify "$pair/received.jws" --jwk "$pair/node.jwk" 2>&1)
  expect_eq "$1: chain verifies (fleet-agent verify: $verdict)" 0 $?
}

pair_down() {
  agent_stop KILL
  receiver_stop KILL
  [[ -n "${proxy_pid:-}" ]] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
  receiver_store_down
  [[ -n "${pair:-}" ]] && rm -rf "$pair"
}
