# A small Hermes node for daemon tests, built from real parts: a tmux server on a private
# socket (session BURN with window FORGE), a Hermes home with cron/jobs.json and the
# dispatch files, a size-limited tmpfs to watch, and a config pointing at all of it.
# Source it, call world_up DIR, and world_down in a trap. Needs root for the tmpfs.
world_up() {
  world=$1
  mkdir -p "$world/home/cron" "$world/state" "$world/disk" "$world/tmux"
  mount -t tmpfs -o size=4m tmpfs "$world/disk" || return 1
  world_socket="$world/tmux/sock"
  SHELL=/bin/bash tmux -S "$world_socket" new-session -d -s BURN -x 80 -y 24 'sleep 100000' || return 1
  tmux -S "$world_socket" new-window -t BURN -n FORGE 'sleep 100000'
  tmux -S "$world_socket" new-session -d -s BURN2 'sleep 100000'
  world_cron ok "$(date -u -d "-10 min" +%Y-%m-%dT%H:%M:%S+00:00)"
  echo '{"rotations": []}' >"$world/home/fleet-dispatch-state.json"
  cat >"$world/agent.yaml" <<YAML
node: {id: test-node}
hermes: {home: $world/home}
state_dir: $world/state
checks:
  tmux: {socket: $world_socket, expect: [BURN, BURN2, FORGE], interval: 1s, timeout: 1s}
  gateway: {enabled: false}
  disk: {paths: [$world/disk], interval: 1s, timeout: 1s}
  cron: {interval: 1s, timeout: 1s}
  dispatch: {files: [fleet-dispatch-state.json], interval: 1s, timeout: 1s}
uptime: {require: [tmux]}
YAML
}

# world_cron STATUS RUN_AT: one job whose last run finished with STATUS at RUN_AT.
world_cron() {
  local error=null
  [[ $1 == ok ]] || error='"Timeout after 300s"'
  cat >"$world/home/cron/jobs.json.tmp" <<JSON
{"jobs": [{"id": "a1b2c3d4e5f6", "name": "daily-report", "enabled": true, "state": "scheduled",
  "schedule": {"kind": "interval", "minutes": 30, "display": "every 30m"},
  "next_run_at": "2099-01-01T00:00:00+00:00", "last_run_at": "$2",
  "last_status": "$1", "last_error": $error}], "updated_at": "$2"}
JSON
  mv "$world/home/cron/jobs.json.tmp" "$world/home/cron/jobs.json"
}

world_down() {
  [[ -n "${world:-}" ]] || return 0
  tmux -S "$world/tmux/sock" kill-server 2>/dev/null
  umount "$world/disk" 2>/dev/null
  rm -rf "$world"
}

# The history database, for assertions.
world_sql() { sqlite3 -readonly "$world/state/history.db" "$1"; }
