# shellcheck shell=bash
# package_box.sh: helpers for package_systemd_test.sh, on top of systemd_box.sh and
# assert.sh (source those first). They act on the installed fleet-agent.service inside a
# booted guest: a hermes user's world (its gateway units, tmux server and Hermes home), an
# HTTPS upstream (fleet-receiver behind the TLS test proxy), the operator's config with
# short intervals, and checks on the history (history.db) and the status the service shows.
# The caller sets `receiver` (fleet-receiver's path) and `source_dir` (the source tree).
# shellcheck disable=SC2154 # receiver and source_dir come from the caller

PKG_INTERVAL_S=3
PKG_STATE=/var/lib/fleet-agent
PKG_RECEIVER_DIR=/var/lib/fleet-test-receiver
PKG_PROXY_PORT=18443
PKG_RECEIVER_PORT=18080

pkg_sql() { sdbox_run sqlite3 "$PKG_STATE/history.db" "$1"; }
pkg_main_pid() { sdbox_run systemctl show -p MainPID --value fleet-agent; }
pkg_journal_has() { sdbox_run journalctl -u fleet-agent --no-pager -o cat | grep -q -- "$1"; }
pkg_status_json() { sdbox_run cat "$PKG_STATE/status.json"; }
pkg_status_summary() {  # pkg_status_summary CHECK: its summary in the daemon's status.json
  pkg_status_json | jq -r --arg n "$1" '.checks[] | select(.name == $n) | .summary'
}
pkg_summary_matches() { [[ "$(pkg_status_summary "$1")" =~ $2 ]]; }

# A test CA and a server certificate for 127.0.0.1, for the TLS proxy.
pkg_make_pki() {  # pkg_make_pki DIR
  local pki=$1
  mkdir -p "$pki" || return 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=fleet-test-ca" -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null || return 1
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null || return 1
  printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/ext"
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 2 -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null || return 1
  chmod 0644 "$pki"/*
  PKG_PKI=$pki
}

# The hermes user (linger) with hermes-gateway.service both as a system unit and as its
# user unit, both running; its tmux server (session BURN) on the default socket in /tmp;
# a Hermes home of mode 0700 with cron/jobs.json and the dispatch files.
pkg_hermes_world() {
  sdbox_add_user hermes || return 1
  local unit=$'[Unit]\nDescription=Hermes gateway (test stand-in)\n[Service]\nExecStart=/bin/sleep infinity\n'
  sdbox_write /home/hermes/.config/systemd/user/hermes-gateway.service hermes <<<"$unit" || return 1
  sdbox_write /etc/systemd/system/hermes-gateway.service <<<"$unit" || return 1
  sdbox_run systemctl daemon-reload || return 1
  sdbox_run systemctl start hermes-gateway.service || return 1
  sdbox_linger hermes || return 1
  sdbox_user_systemctl hermes start hermes-gateway.service || return 1
  sdbox_run chmod 0700 /home/hermes || return 1
  sdbox_write /home/hermes/.hermes/cron/jobs.json hermes <<<'{"jobs": []}' || return 1
  sdbox_write /home/hermes/.hermes/fleet-dispatch-state.json hermes <<<'{"tasks": []}' || return 1
  sdbox_write /tmp/hermes/dispatch-queue.json hermes <<<'[]' || return 1
  sdbox_run chmod 0700 /home/hermes/.hermes /tmp/hermes || return 1
  sdbox_run runuser -u hermes -- sh -c 'cd && tmux new-session -d -s BURN' || return 1
  sdbox_run runuser -u hermes -- tmux has-session -t BURN
}

# fleet-receiver (the node registered with JWK) behind the TLS proxy, inside the guest.
pkg_start_upstream() {  # pkg_start_upstream JWK
  local d=$PKG_RECEIVER_DIR
  sdbox_run mkdir -p "$d" || return 1
  sdbox_write "$d/node.jwk" <<<"$1" || return 1
  sdbox_run "$receiver" nodes add --db "$d/receiver.db" --node "$(sdbox_run hostname)" --operator op-1 \
    --jwk "$d/node.jwk" >/dev/null || return 1
  sdbox_run sh -c "setsid '$receiver' serve --listen 127.0.0.1:$PKG_RECEIVER_PORT --db $d/receiver.db \
    >$d/receiver.log 2>&1 </dev/null &" || return 1
  sdbox_run sh -c "setsid python3 '$source_dir/tests/integration/lib/chaos_proxy.py' \
    --listen $PKG_PROXY_PORT --upstream http://127.0.0.1:$PKG_RECEIVER_PORT --log $d/proxy.log \
    --tls-cert '$PKG_PKI/server.pem' --tls-key '$PKG_PKI/server.key' >$d/proxy.out 2>&1 </dev/null &" ||
    return 1
  sdbox_write /etc/fleet-agent/ca.pem <"$PKG_PKI/ca.pem" || return 1
  wait_for 10 sdbox_run grep -q listening "$d/proxy.out"
}
pkg_receiver_has_records() {
  local n
  n=$(sdbox_run sqlite3 "$PKG_RECEIVER_DIR/receiver.db" 'select count(*) from records') || return 1
  ((n > 0))
}

# The operator's config: gateway scope SCOPE, every check every PKG_INTERVAL_S seconds,
# pushing to the TLS proxy; tmux expects TMUX_EXPECT (default BURN). The node id is the
# hostname, as under the shipped config, so every record names the same node.
pkg_config() {  # pkg_config SCOPE [TMUX_EXPECT]
  local i=${PKG_INTERVAL_S}s expect=${2:-BURN}
  sdbox_write /etc/fleet-agent/agent.yaml <<EOF
# The operator's edits (package_systemd_test).
hermes: {user: hermes}
checks:
  tmux: {expect: [$expect], idle_warning: 0s, interval: $i}
  gateway: {scope: $1, interval: $i}
  disk: {interval: $i}
  cron: {interval: $i}
  dispatch: {interval: $i}
uptime: {require: [gateway, tmux]}
upstream:
  url: https://127.0.0.1:$PKG_PROXY_PORT
  ca_file: /etc/fleet-agent/ca.pem
  connect_timeout: 2s
  timeout: 5s
  backoff_cap: 2s
EOF
}

pkg_status_text() { sdbox_run systemctl show -p StatusText --value fleet-agent; }

# systemctl reload, then waits (up to 15 s: the STATUS= line is refreshed every 5 s at
# most) until the daemon counted one more reload and its STATUS= line matches REGEX.
pkg_reload_and_wait() {  # pkg_reload_and_wait LABEL REGEX
  local label=$1 want=$2 before after="" text=""
  before=$(pkg_status_json | jq -r '.reloads // 0')
  sdbox_run systemctl reload fleet-agent || fail "$label: systemctl reload failed"
  local until=$((SECONDS + 15))
  while ((SECONDS < until)); do
    after=$(pkg_status_json | jq -r '.reloads // 0')
    text=$(pkg_status_text)
    if ((after > before)) && [[ "$text" =~ $want ]]; then
      pass "$label: reload applied ($text)"
      return 0
    fi
    sleep 0.1
  done
  fail "$label: reloads $before -> $after, status '$text', wanted /$want/"
}

# `fleet-agent check` with the same config and `systemctl status fleet-agent` say the same:
# up/DOWN (uptime.require: gateway, tmux) and each check's status. The service's line is
# refreshed every 5 s at most, so this waits for it up to 15 s.
pkg_expect_agree() {  # pkg_expect_agree LABEL
  local label=$1 check="" shown="" until=$((SECONDS + 15))
  while ((SECONDS < until)); do
    check=$(sdbox_run fleet-agent check --json --config /etc/fleet-agent/agent.yaml | jq -r '
      ([.checks[] | select(.name == "gateway" or .name == "tmux") | .status != "critical"]
       | if length == 2 and all then "up" else "DOWN" end) + " " +
      ([.checks[] | "\(.name)=\(.status)"] | sort | join(" "))')
    shown=$(sdbox_run systemctl status --no-pager fleet-agent | sed -n 's/^ *Status: "\(.*\)"$/\1/p')
    [[ "$check" == "$shown" ]] && break
    sleep 0.5
  done
  expect_eq "$label: fleet-agent check and systemctl status agree" "$check" "$shown"
  expect_match "$label: systemctl status says active (running)" "Active: active \(running\)" \
    "$(sdbox_run systemctl status --no-pager fleet-agent)"
}

pkg_no_open_incident() {  # pkg_no_open_incident CHECK
  [[ "$(pkg_sql "select count(*) from incidents where check_name = '$1' and closed is null")" == 0 ]]
}

# Runs COMMAND (which takes the gateway down), then expects a new gateway incident whose
# opening time is at most one check interval after the command returned.
pkg_expect_incident_within_interval() {  # LABEL COMMAND...
  local label=$1 before t0_ms opened=""
  shift
  before=$(pkg_sql 'select coalesce(max(id), 0) from incidents')
  "$@" || fail "$label: '$*' failed"
  t0_ms=$(sdbox_run date +%s%3N)
  local until=$((SECONDS + PKG_INTERVAL_S + 10))
  while ((SECONDS < until)); do
    opened=$(pkg_sql "select opened from incidents where id > $before and check_name = 'gateway'")
    [[ -n "$opened" ]] && break
    sleep 0.1
  done
  if [[ -z "$opened" ]]; then
    fail "$label: no gateway incident after it went down"
    return
  fi
  local late_ms=$((opened * 1000 - t0_ms))
  ((late_ms <= PKG_INTERVAL_S * 1000)) &&
    pass "$label down: seen within one interval (${PKG_INTERVAL_S} s; incident opened at +${late_ms} ms, 1 s resolution)" ||
    fail "$label down: incident opened ${late_ms} ms after, more than one interval (${PKG_INTERVAL_S} s)"
}

# What history there is now: heartbeat minutes, agent runs, the records in the spool
# (epoch:seq).
pkg_history_snapshot() {
  snap_minutes=$(pkg_sql 'select count(*) || " " || coalesce(max(minute), 0) from heartbeats')
  snap_runs=$(pkg_sql 'select count(*) from agent_runs')
  snap_records=$(pkg_sql "select epoch || ':' || seq from records order by epoch, seq" | tr '\n' ' ')
}

# Nothing in the snapshot is gone, and the agent started once more since.
pkg_expect_history_kept() {  # LABEL
  local label=$1 count max now_count
  read -r count max <<<"$snap_minutes"
  now_count=$(pkg_sql "select count(*) from heartbeats where minute <= $max")
  expect_eq "$label: every heartbeat kept ($count up to minute $max)" "$count" "$now_count"
  # A record spooled then is still in the spool, or the receiver has it (pushing goes on
  # across the restart, and an acknowledged record leaves the spool).
  local record epoch seq lost=0 spooled=0
  for record in $snap_records; do
    epoch=${record%:*} seq=${record#*:}
    spooled=$((spooled + 1))
    [[ $(pkg_sql "select count(*) from records where epoch = $epoch and seq = $seq") == 1 ||
       $(sdbox_run sqlite3 "$PKG_RECEIVER_DIR/receiver.db" \
         "select count(*) from records where epoch = $epoch and seq = $seq") == 1 ]] ||
      lost=$((lost + 1))
  done
  expect_eq "$label: every spooled record kept or delivered ($spooled: $snap_records)" 0 "$lost"
  expect_eq "$label: one more agent run" "$((snap_runs + 1))" "$(pkg_sql 'select count(*) from agent_runs')"
}

pkg_heartbeats_at_least() {
  local n
  n=$(pkg_sql 'select count(*) from heartbeats' 2>/dev/null)
  [[ $n =~ ^[0-9]+$ ]] && ((n >= $1))
}

# Sends SIGNAL (kill -9, kill -STOP) to the agent; expects systemd to restart it within
# TIMEOUT seconds, with no history lost and the new run knowing the stop was unclean.
pkg_expect_restart_keeps_history() {  # LABEL TIMEOUT KILL_ARGS...
  local label=$1 timeout=$2 pid restarts new_pid="" t0 _
  shift 2
  # A heartbeat is written just after its minute ends: up to a minute after ready. (The
  # count is read again at every try, not once.)
  wait_for 75 pkg_heartbeats_at_least 1 || fail "$label: no heartbeat before"
  pkg_history_snapshot
  pid=$(pkg_main_pid)
  restarts=$(sdbox_run systemctl show -p NRestarts --value fleet-agent)
  [[ "$pid" =~ ^[1-9][0-9]*$ ]] || { fail "$label: no main pid ($pid)"; return; }
  t0=$SECONDS  # the restart's time counts from the signal
  sdbox_run "$@" "$pid"
  while ((SECONDS - t0 < timeout)); do
    new_pid=$(pkg_main_pid)
    if [[ "$new_pid" != "$pid" && "$new_pid" != 0 ]] &&
      [[ "$(sdbox_run systemctl is-active fleet-agent)" == active ]]; then
      break
    fi
    sleep 0.5
  done
  expect_eq "$label: restarted by systemd (NRestarts)" "$((restarts + 1))" \
    "$(sdbox_run systemctl show -p NRestarts --value fleet-agent)"
  [[ "$new_pid" =~ ^[1-9][0-9]*$ && "$new_pid" != "$pid" ]] &&
    pass "$label: new process after $((SECONDS - t0)) s" ||
    fail "$label: not restarted within $timeout s"
  pkg_expect_history_kept "$label"
  expect_eq "$label: the new run saw an unclean stop" 0 \
    "$(pkg_sql 'select clean_previous_stop from agent_runs order by id desc limit 1')"
}
