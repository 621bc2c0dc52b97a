#!/bin/bash
# The remedies under the shipped hardened unit (systemd/fleet-agent.service) in a real
# systemd (lib/systemd_box.sh): what each remedy can do with the unit's own rights, and
# what the write drop-in adds. The gateway (a system unit) killed is restarted over D-Bus
# from inside the sandbox; the disk remedy cannot remove files (ProtectSystem=strict: the
# action is recorded failed, "Read-only file system") until the drop-in `fleet-agent
# config dropin` writes (ReadWritePaths= of the listed directories only) is in place, then
# it frees the disk.
# Prints `systemd-analyze security` with and without the drop-in. Skips (77) without root
# or systemd-nspawn.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/systemd_box.sh"
agent=${FLEET_AGENT:?FLEET_AGENT must name the built binary}
source_dir=$(cd "$here/../.." && pwd)
sdbox_require
sdbox_boot || { echo "FAIL: could not boot systemd in a container"; exit 1; }
sdbox_run install -m 0755 "$agent" /usr/bin/fleet-agent || { echo "FAIL: install"; exit 1; }
sdbox_run install -m 0644 "$source_dir/systemd/fleet-agent.service" /etc/systemd/system/fleet-agent.service
sdbox_add_user hermes || { fail "useradd hermes"; finish; }
sdbox_write /etc/systemd/system/hermes-gateway.service <<'UNIT'
[Service]
ExecStart=/bin/sleep infinity
UNIT
# The disk to free: a 4 MiB tmpfs, 97% full of old logs.
sdbox_run mkdir -p /srv/hermes-data
sdbox_run mount -t tmpfs -o size=4m tmpfs /srv/hermes-data
sdbox_run sh -c 'mkdir -p /srv/hermes-data/logs && for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
  head -c 262144 /dev/zero >/srv/hermes-data/logs/app.log.$i; touch -d "-$((30 - i)) days" /srv/hermes-data/logs/app.log.$i; done'
sdbox_write /etc/fleet-agent/agent.yaml <<'YAML'
node: {id: box-node}
hermes: {user: hermes}
checks:
  tmux: {enabled: false}
  cron: {enabled: false}
  dispatch: {enabled: false}
  gateway: {interval: 1s, scope: system, units: [hermes-gateway]}
  disk: {interval: 1s, paths: [/srv/hermes-data]}
uptime: {require: [gateway]}
remedies:
  gateway: {restart: true}
  disk:
    clean:
      - {dir: /srv/hermes-data/logs, glob: "*.log.*", older_than: 1d}
  limits: {attempts: 3, within: 1m, backoff: 1s, backoff_cap: 2s, reset_after: 1m}
YAML
security() {
  sdbox_run systemd-analyze security --no-pager fleet-agent.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for fleet-agent.service: \([0-9.]*\).*/\1/p'
}
sdbox_run systemctl daemon-reload
sdbox_run systemctl start hermes-gateway.service
sdbox_run systemctl start fleet-agent.service
expect_eq "the hardened agent is active" active "$(sdbox_run systemctl is-active fleet-agent.service)"
without=$(security)
sql() { sdbox_run sqlite3 /var/lib/fleet-agent/history.db "$1"; }
has() { [[ "$(sql "select count(*) from remediations where $1")" -ge 1 ]]; }

# ---- the gateway: D-Bus to systemd from inside the sandbox -----------------------------
sdbox_run systemctl kill --signal=KILL hermes-gateway.service
wait_for 20 has "target = 'hermes-gateway.service' and outcome = 'succeeded'"
expect_eq "gateway killed: restarted by the hardened agent" 0 $?
expect_eq "... active again" active "$(sdbox_run systemctl is-active hermes-gateway.service)"

# ---- the disk: read-only without the drop-in -------------------------------------------
wait_for 20 has "action = 'remove_files' and outcome = 'failed'"
expect_eq "disk 97% full, no drop-in: the clean-up fails" 0 $?
expect_match "... and says why" "removed 0 file.*cannot remove files in /srv/hermes-data/logs: Read-only file system \(under the hardened unit, the remedies drop-in" \
  "$(sql "select changed from remediations where action = 'remove_files' limit 1")"

# ---- the drop-in: write access to the listed directories only --------------------------
sdbox_run mkdir -p /etc/systemd/system/fleet-agent.service.d
sdbox_run sh -c 'fleet-agent config dropin /etc/fleet-agent/agent.yaml >/etc/systemd/system/fleet-agent.service.d/remedies.conf'
expect_eq "fleet-agent config dropin: the listed directory only" "ReadWritePaths=-/srv/hermes-data/logs" \
  "$(sdbox_run grep -v '^#' /etc/systemd/system/fleet-agent.service.d/remedies.conf | grep -v '^\[Service\]')"
sdbox_run systemctl daemon-reload
sdbox_run systemctl restart fleet-agent.service
with=$(security)
sdbox_run sqlite3 /var/lib/fleet-agent/history.db "select 1" >/dev/null
# The limits survive the restart: the first failure counts, the next attempts come.
wait_for 30 has "action = 'remove_files' and outcome = 'succeeded'"
expect_eq "with the drop-in: the clean-up succeeds" 0 $?
used=$(sdbox_run df --output=pcent /srv/hermes-data | tail -1 | tr -dc 0-9)
((used <= 85)) && pass "... the disk under the warning line ($used%)" || fail "still $used% used"
echo "systemd-analyze security fleet-agent.service: $without without the drop-in, $with with it"
expect_match "both figures measured" '^[0-9.]+ [0-9.]+$' "$without $with"
finish
