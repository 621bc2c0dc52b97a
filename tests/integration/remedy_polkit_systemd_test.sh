#!/bin/bash
# The polkit rule for an agent that does not run as root (systemd/polkit/
# 50-fleet-agent-gateway.rules) in a real systemd with polkitd (lib/systemd_box.sh): as
# the user fleet-agent, `fleet-agent fix --only gateway` restarts hermes-gateway.service
# over the system bus; the same for another unit is refused by polkit, and said so.
# Skips (77) without root, systemd-nspawn or polkitd.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/systemd_box.sh"
agent=${FLEET_AGENT:?FLEET_AGENT must name the built binary}
source_dir=$(cd "$here/../.." && pwd)
sdbox_require
[[ -x /usr/lib/polkit-1/polkitd ]] || sdbox_skip "needs polkitd (apt-get install polkitd)"
sdbox_boot || { echo "FAIL: could not boot systemd in a container"; exit 1; }
sdbox_run install -m 0755 "$agent" /usr/local/bin/fleet-agent || { echo "FAIL: install"; exit 1; }
sdbox_run useradd --system --create-home --home-dir /var/lib/fleet-agent-user fleet-agent
sdbox_run install -m 0644 "$source_dir/systemd/polkit/50-fleet-agent-gateway.rules" \
  /etc/polkit-1/rules.d/50-fleet-agent-gateway.rules
for unit in hermes-gateway other-gateway; do
  sdbox_write "/etc/systemd/system/$unit.service" <<<$'[Service]\nExecStart=/bin/sleep infinity'
done
sdbox_run systemctl daemon-reload
for unit in hermes-gateway other-gateway; do
  sdbox_write "/etc/fleet-agent/$unit.yaml" <<YAML
hermes: {user: fleet-agent}
checks:
  gateway: {scope: system, units: [$unit]}
remedies:
  gateway: {restart: true}
YAML
  sdbox_run systemctl start "$unit.service"
  sdbox_run systemctl kill --signal=KILL "$unit.service"
done
failed() { [[ "$(sdbox_run systemctl is-active "$1")" == failed ]]; }
wait_for 10 failed hermes-gateway.service
wait_for 10 failed other-gateway.service
fix_as() {  # fix_as UNIT: fleet-agent fix as the user fleet-agent; sets out, rc
  out=$(sdbox_run runuser -u fleet-agent -- fleet-agent fix --config "/etc/fleet-agent/$1.yaml" \
    --state-dir /var/lib/fleet-agent-user/state --only gateway 2>&1)
  rc=$?
}
fix_as hermes-gateway
expect_eq "as fleet-agent, the rule's unit: fixed (exit 0)" 0 "$rc"
expect_match "... restarted over the bus" "done: restart job done; active \(running\)" "$out"
expect_eq "... and active" active "$(sdbox_run systemctl is-active hermes-gateway.service)"
fix_as other-gateway
expect_eq "as fleet-agent, another unit: not fixed (exit 2)" 2 "$rc"
expect_match "... refused by polkit, and said so" \
  "failed: RestartUnit other-gateway.service failed: Interactive authentication required" "$out"
expect_eq "... and still failed" failed "$(sdbox_run systemctl is-active other-gateway.service)"
finish
