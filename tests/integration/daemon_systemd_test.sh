#!/bin/bash
# `fleet-agent run` under a real systemd (lib/systemd_box.sh) as a Type=notify service
# with a watchdog: READY=1 makes the unit active, STATUS= shows the one-line summary,
# SIGHUP through `systemctl reload` is applied, a frozen agent (SIGSTOP) is killed by the
# watchdog and restarted with its history intact, and `systemctl stop` writes agent_stop.
# Skips (77) without root or systemd-nspawn.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/systemd_box.sh"
agent=${FLEET_AGENT:?FLEET_AGENT must name the built binary}
sdbox_require
sdbox_boot || { echo "FAIL: could not boot systemd in a container"; exit 1; }
sdbox_run install -m 0755 "$agent" /usr/local/bin/fleet-agent || { echo "FAIL: install"; exit 1; }

sdbox_write /etc/fleet-agent/agent.yaml <<'YAML'
node: {id: box-node}
hermes: {home: /var/lib/hermes-test}
checks:
  tmux: {enabled: false}
  disk: {interval: 1s}
uptime: {require: [disk]}
YAML
sdbox_write /etc/systemd/system/fleet-agent-test.service <<'UNIT'
[Service]
Type=notify
ExecStart=/usr/local/bin/fleet-agent run --config /etc/fleet-agent/agent.yaml --state-dir /var/lib/fleet-agent-test
ExecReload=/bin/kill -HUP $MAINPID
WatchdogSec=3s
Restart=on-failure
RestartSec=1s
UNIT
sdbox_run systemctl daemon-reload
sdbox_run systemctl start fleet-agent-test.service  # returns once READY=1 arrived
expect_eq "Type=notify unit becomes active (READY=1)" active "$(sdbox_run systemctl is-active fleet-agent-test.service)"
expect_match "STATUS= carries the summary" "^StatusText=up .*disk=ok" "$(sdbox_run systemctl show -p StatusText fleet-agent-test.service)"

sleep 4  # longer than WatchdogSec: WATCHDOG=1 keeps it alive
expect_eq "watchdog pings keep it running" "active|0" \
  "$(sdbox_run systemctl is-active fleet-agent-test.service)|$(sdbox_run systemctl show -p NRestarts --value fleet-agent-test.service)"

sdbox_run sed -i 's/interval: 1s/interval: 2s/' /etc/fleet-agent/agent.yaml
sdbox_run systemctl reload fleet-agent-test.service
reloaded() { sdbox_run journalctl -u fleet-agent-test.service --no-pager | grep -q "configuration reloaded"; }
wait_for 10 reloaded
expect_eq "reload applied (logged 'configuration reloaded')" 0 $?
expect_eq "reload: still active" active "$(sdbox_run systemctl is-active fleet-agent-test.service)"

pid=$(sdbox_run systemctl show -p MainPID --value fleet-agent-test.service)
records_before=$(sdbox_run sqlite3 /var/lib/fleet-agent-test/history.db 'select count(*) from records')
sdbox_run kill -STOP "$pid"
restarted=0
for _ in $(seq 40); do
  sleep 0.5
  [[ "$(sdbox_run systemctl show -p NRestarts --value fleet-agent-test.service)" -ge 1 ]] &&
    [[ "$(sdbox_run systemctl is-active fleet-agent-test.service)" == active ]] && { restarted=1; break; }
done
expect_eq "frozen agent restarted by the watchdog" 1 "$restarted"
expect_match "new main pid" '^[0-9]+$' "$(sdbox_run systemctl show -p MainPID --value fleet-agent-test.service)"
records_after=$(sdbox_run sqlite3 /var/lib/fleet-agent-test/history.db 'select count(*) from records')
((records_after > records_before)) && pass "history kept and growing ($records_before -> $records_after)" || fail "history lost: $records_before -> $records_after"
expect_eq "the restart saw an unclean stop" 0 "$(sdbox_run sqlite3 /var/lib/fleet-agent-test/history.db 'select clean_previous_stop from agent_runs order by id desc limit 1')"

sdbox_run systemctl stop fleet-agent-test.service
expect_eq "stop writes agent_stop" agent_stop "$(sdbox_run sqlite3 /var/lib/fleet-agent-test/history.db 'select type from records order by seq desc limit 1')"
finish
