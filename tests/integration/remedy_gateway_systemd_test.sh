#!/bin/bash
# The gateway remedy against a real systemd booted in a container (lib/systemd_box.sh),
# with `fleet-agent run` inside it and the fake Telegram (fakes/fake_chat.py) on the
# guest's loopback. A system unit killed is restarted by the agent (a signed remediation
# record, succeeded, and the unit active again); the same for the hermes user's unit in
# its user manager; a unit that fails at once (it counts its starts) gets exactly
# `attempts` restarts, then one "exhausted" record and an alert at the fake Telegram that
# says so, and no more restarts; a unit whose start systemd refuses (its start limit) is
# said so, reset (reset-failed) and started, one real start per attempt, 3 in all; in dry-run a killed unit is recorded as what would be
# done and restarted by nobody. Skips (77) without root or systemd-nspawn.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/systemd_box.sh"
agent=${FLEET_AGENT:?FLEET_AGENT must name the built binary}
sdbox_require
command -v jq >/dev/null || { echo "FAIL: jq is missing (packaging/install-deps.sh --test)"; exit 1; }
command -v python3 >/dev/null || sdbox_skip "needs python3 (the fake chat server)"
sdbox_boot || { echo "FAIL: could not boot systemd in a container"; exit 1; }
sdbox_run install -m 0755 "$agent" /usr/local/bin/fleet-agent || { echo "FAIL: install"; exit 1; }
sdbox_run mkdir -p /var/lib/box

# The fake chat server inside the guest (its network is its own loopback).
sdbox_run sh -c "python3 '$here/fakes/fake_chat.py' --port-file /var/lib/box/chat.port \
  --telegram-token 42:T0K >/var/lib/box/chat.log 2>&1 &"
chat_up() { sdbox_run test -s /var/lib/box/chat.port; }
wait_for 10 chat_up || { fail "the fake chat server did not start"; finish; }
chat_url="http://127.0.0.1:$(sdbox_run cat /var/lib/box/chat.port)"
calls() { sdbox_run curl -sS --max-time 10 "$chat_url/_fake/calls" | jq -c "$1"; }
sdbox_write /var/lib/box/telegram.token <<<"42:T0K"
sdbox_run chmod 600 /var/lib/box/telegram.token

unit_file() {  # unit_file EXEC
  printf '[Unit]\nDescription=Hermes gateway (test stand-in)\n[Service]\nExecStart=%s\n' "$1"
}
sdbox_write /etc/systemd/system/hermes-gateway.service < <(unit_file "/bin/sleep infinity")
# Fails at once, counting its starts.
sdbox_write /etc/systemd/system/gw-false.service \
  < <(unit_file "/bin/sh -c 'echo start >>/var/lib/box/gw-false.starts; exit 1'")
# systemd's own start limit at one start per hour: the agent's restart hits it.
sdbox_write /etc/systemd/system/gw-limit.service \
  < <(printf '[Unit]\nStartLimitBurst=1\nStartLimitIntervalSec=1h\n[Service]\nExecStart=/bin/false\n')
sdbox_run systemctl daemon-reload
sdbox_add_user hermes || { fail "useradd hermes"; finish; }
sdbox_write /home/hermes/.config/systemd/user/hermes-gateway.service hermes \
  < <(unit_file "/bin/sleep infinity")
sdbox_linger hermes || { fail "no user manager for hermes"; finish; }

# write_config NAME MODE SCOPE UNIT: an agent configuration with only the gateway check.
write_config() {
  sdbox_write "/etc/fleet-agent/$1.yaml" <<YAML
node: {id: box-node}
hermes: {user: hermes}
checks:
  tmux: {enabled: false}
  disk: {enabled: false}
  cron: {enabled: false}
  dispatch: {enabled: false}
  gateway: {interval: 1s, scope: $3, units: [$4]}
uptime: {require: [gateway]}
alerts:
  telegram: {token_file: /var/lib/box/telegram.token, chat_id: "-100", api_base: "$chat_url", poll: false}
  confirm: 1s
remedies:
  mode: $2
  gateway: {restart: true}
  limits: {attempts: 3, within: 1m, backoff: 1s, backoff_cap: 2s, reset_after: 1m}
YAML
}

daemon=""
# start_agent NAME: `fleet-agent run` in the guest, state in /var/lib/box/NAME.
start_agent() {
  sdbox_run sh -c "fleet-agent run --config /etc/fleet-agent/$1.yaml --state-dir /var/lib/box/$1 \
    >/var/lib/box/$1.log 2>&1 & echo \$! >/var/lib/box/$1.pid"
  daemon=$1
  ready() { sdbox_run fleet-agent status --state-dir "/var/lib/box/$daemon" --json 2>/dev/null | jq -e '.ready == true' >/dev/null; }
  wait_for 20 ready || fail "$1: the agent did not become ready"
}
stop_agent() {
  sdbox_run sh -c "kill \$(cat /var/lib/box/$daemon.pid)"
  gone() { ! sdbox_run sh -c "kill -0 \$(cat /var/lib/box/$daemon.pid) 2>/dev/null"; }
  wait_for 10 gone || fail "$daemon: the agent did not stop"
}
sql() { sdbox_run sqlite3 "/var/lib/box/$daemon/history.db" "$1"; }
has_rows() { [[ "$(sql "$1")" -ge "${2:-1}" ]]; }
active() {  # active UNIT [USER]
  if [[ -n "${2:-}" ]]; then
    [[ "$(sdbox_user_systemctl "$2" is-active "$1")" == active ]]
  else
    [[ "$(sdbox_run systemctl is-active "$1")" == active ]]
  fi
}
sub_state_is() {  # sub_state_is UNIT STATE
  [[ "$(sdbox_run systemctl show -p SubState --value "$1")" == "$2" ]]
}

# ---- a system unit killed: restarted by the agent ------------------------------------
write_config system act system hermes-gateway
sdbox_run systemctl start hermes-gateway.service
start_agent system
sdbox_run systemctl kill --signal=KILL hermes-gateway.service
done_q="select count(*) from remediations where target = 'hermes-gateway.service' and action = 'restart_unit' and outcome = 'succeeded'"
wait_for 20 has_rows "$done_q"
expect_eq "system unit killed: a succeeded restart_unit remediation" 1 "$(sql "$done_q")"
expect_eq "... the unit is active again" 0 "$(active hermes-gateway.service; echo $?)"
expect_eq "... signed as a remediation record" 1 "$(sql "select count(*) from records where type = 'remediation'")"
expect_match "... what changed is said" "restart job done; active \(running\)" \
  "$(sql "select changed from remediations limit 1")"
healthy_logged() { sdbox_run grep -q "remedy: restarted hermes-gateway.service in the system manager: gateway healthy" /var/lib/box/system.log; }
wait_for 10 healthy_logged
expect_eq "... and the check seeing it healthy after the agent acted is logged" 0 $?
status_says() { sdbox_run fleet-agent status --state-dir /var/lib/box/system --json | jq -e "$1" >/dev/null; }
wait_for 10 status_says '.remedies.recent[0].outcome == "succeeded"'
expect_eq "... status.json shows it" 0 $?
stop_agent

# ---- the hermes user's unit killed: restarted in its user manager ---------------------
write_config user act user hermes-gateway
sdbox_user_systemctl hermes start hermes-gateway.service
start_agent user
sdbox_user_systemctl hermes kill --signal=KILL hermes-gateway.service
wait_for 20 has_rows "$done_q"
expect_eq "user unit killed: a succeeded restart_unit remediation" 1 "$(sql "$done_q")"
expect_eq "... in hermes's user manager" 0 "$(active hermes-gateway.service hermes; echo $?)"
expect_match "... the record says where" "hermes's user manager" \
  "$(sdbox_run grep -m1 'remedy: restart hermes-gateway.service' /var/lib/box/user.log)"
stop_agent

# ---- a unit that fails at once: exactly `attempts` restarts, then exhausted -----------
write_config failing act system gw-false
sdbox_run systemctl start gw-false.service
wait_for 10 sub_state_is gw-false.service failed || fail "gw-false never failed"
expect_eq "gw-false started once by the test" 1 "$(sdbox_run sh -c "wc -l </var/lib/box/gw-false.starts")"
start_agent failing
exhausted_q="select count(*) from remediations where target = 'gw-false.service' and outcome = 'exhausted'"
wait_for 30 has_rows "$exhausted_q"
expect_eq "failing unit: one exhausted record" 1 "$(sql "$exhausted_q")"
expect_eq "... after exactly 3 failed restart_unit attempts" "3 failed 1,2,3" \
  "$(sql "select count(*), group_concat(distinct outcome), group_concat(attempt) from remediations where target = 'gw-false.service' and action = 'restart_unit' and outcome != 'exhausted'" | tr '|' ' ')"
sends='.path | endswith("/sendMessage")'
told() { calls "[.[] | select($sends) | .body.text | select(test(\"remediation exhausted\"))] | length" | grep -qx '[1-9][0-9]*'; }
wait_for 15 told
expect_eq "... the fake Telegram got an alert saying remediation exhausted" 0 $?
text=$(calls "[.[] | select($sends) | .body.text | select(test(\"remediation exhausted\"))][-1]")
expect_match "... naming the unit and asking for the operator" "gw-false.service.*needs you" "$text"
# No more restarts: the check has seen the unit failed for 3 s more (longer than the
# back-off cap) and the unit's own count of starts stays at 1 + 3.
exhausted_at=$(sql "select finished from remediations where outcome = 'exhausted'")
checked_later() {
  local at
  at=$(sdbox_run fleet-agent status --state-dir /var/lib/box/failing --json |
    jq -r '.checks[] | select(.name == "gateway" and .status == "critical") | .checked_at')
  [[ -n "$at" ]] && (($(date -d "$at" +%s) >= exhausted_at + 3))
}
wait_for 15 checked_later
expect_eq "... the check still ran and saw it failed" 0 $?
expect_eq "... the unit was started 1 + 3 times" 4 "$(sdbox_run sh -c "wc -l </var/lib/box/gw-false.starts")"
stop_agent

# ---- systemd's start limit: said, reset before the next attempt, within the limits -----
write_config limit act system gw-limit
sdbox_run systemctl start gw-limit.service
wait_for 10 sub_state_is gw-limit.service failed || fail "gw-limit never failed"
start_agent limit
limit_q="select count(*) from remediations where target = 'gw-limit.service' and outcome = 'exhausted'"
wait_for 30 has_rows "$limit_q"
changed=$(sql "select attempt || ': ' || changed from remediations where target = 'gw-limit.service' and action = 'restart_unit' and outcome = 'failed' order by attempt")
expect_eq "start limit: 3 failed attempts, then exhausted" 3 "$(wc -l <<<"$changed")"
refused="systemd refused the start \(its start limit, StartLimitBurst=1 within 3600s\), start limit reset \(reset-failed\), restart job done; then failed"
for n in 1 2 3; do
  expect_match "... attempt $n: refused by the start limit, said so, reset, started once" \
    "(^|$(printf '\n'))$n: $refused" "$changed"
done
started() { sdbox_run journalctl -u gw-limit.service --no-pager -o cat | grep -c '^Started gw-limit.service'; }
expect_eq "... the unit really started 1 + 3 times" 4 "$(started)"
stop_agent

# ---- dry-run: recorded, nothing restarted --------------------------------------------
write_config dryrun dry-run system hermes-gateway
sdbox_run systemctl start hermes-gateway.service
start_agent dryrun
sdbox_run systemctl kill --signal=KILL hermes-gateway.service
dry_q="select count(*) from remediations where target = 'hermes-gateway.service' and outcome = 'dry_run'"
wait_for 20 has_rows "$dry_q"
expect_eq "dry-run: a dry_run remediation record" 1 "$(sql "$dry_q")"
expect_match "... saying what would be done" "dry-run: would restart hermes-gateway.service" \
  "$(sql "select changed from remediations limit 1")"
expect_eq "... and the unit left failed" failed "$(sdbox_run systemctl is-active hermes-gateway.service)"
stop_agent

finish
