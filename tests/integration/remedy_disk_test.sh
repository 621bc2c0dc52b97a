#!/usr/bin/env bash
# The disk remedy on a real tmpfs (lib/node_world.sh: 4 MiB) filled to about 97% with
# files of known ages, and `fleet-agent run`: only old files matching a listed rule go,
# oldest first, and only until usage is back under the warning line (85% used): younger
# old files stay; files elsewhere, a name the glob does not match, a symlink to a file
# elsewhere and a tmpfs mounted inside a listed directory are left alone; the record lists
# what went. A `~user` that does not exist is a configuration error at its line and
# column. Then the operator's script through `fleet-agent fix`: one that hangs is killed at
# its timeout (its process gone), one not executable fails; both are failed run_script
# records and the daemon lives on. Needs root (tmpfs mounts).
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/node_world.sh"
require_root "mounting a tmpfs"
command -v sqlite3 >/dev/null || { echo "SKIPPED: sqlite3 is not installed"; exit 77; }
agent=${FLEET_AGENT:?}
daemon=""
cleanup() {
  kill -9 $daemon 2>/dev/null
  umount "$world/disk/logs/mnt" 2>/dev/null
  world_down
}
trap cleanup EXIT
world_up "$(mktemp -d /var/tmp/fleet-remedy-disk.XXXXXX)" || { echo "cannot build the test node"; exit 1; }
d=$world/disk
# file PATH KIB DAYS_OLD
file() {
  mkdir -p "$(dirname "$1")"
  head -c "$(($2 * 1024))" /dev/zero >"$1"
  touch -d "-$3 days" "$1"
}
for i in 0 1 2 3; do file "$d/cache/c$i.bin" 256 $((23 - i)); done      # 23..20 days old
for i in 0 1 2 3 4 5 6 7; do file "$d/logs/app.log.$i" 256 $((17 - i)); done  # 17..10 days
file "$d/logs/young.log.1" 256 0
file "$d/logs/keep.txt" 256 50
file "$d/notlisted/big.old" 384 60
file "$world/outside.log.1" 4 60
ln -s "$world/outside.log.1" "$d/logs/link.log.1"
mkdir -p "$d/logs/mnt"
mount -t tmpfs -o size=1m tmpfs "$d/logs/mnt" || { fail "cannot mount the inner tmpfs"; finish; }
file "$d/logs/mnt/inner.log.1" 64 60
used() { df --output=pcent "$d" | tail -1 | tr -dc 0-9; }
before=$(used)
((before >= 95)) && pass "the tmpfs is filled to $before%" || fail "the tmpfs is only $before% full"

cat >>"$world/agent.yaml" <<YAML
remedies:
  disk:
    clean:
      - {dir: $d/logs, glob: "*.log.*", older_than: 1d}
      - {dir: $d/cache, older_than: 1d}
YAML

# ---- bad input first: a ~user that does not exist -------------------------------------
cp "$world/agent.yaml" "$world/bad.yaml"
cat >>"$world/bad.yaml" <<'YAML'
      - {dir: ~no-such-user-here/logs, older_than: 1d}
YAML
err=$("$agent" run --config "$world/bad.yaml" --state-dir "$world/bad-state" 2>&1)
expect_eq "a ~user that does not exist: the agent refuses to start" 1 $?
line=$(grep -n 'no-such-user-here' "$world/bad.yaml" | cut -d: -f1)
expect_match "... naming the file, line and column and the user" \
  "bad.yaml:$line:[0-9]+: remedies.disk.clean: no user no-such-user-here on this machine" "$err"

# ---- the real thing -------------------------------------------------------------------
"$agent" run --config "$world/agent.yaml" 2>"$world/daemon.log" &
daemon=$!
status_has() { "$agent" status --state-dir "$world/state" --json 2>/dev/null | jq -e "$1" >/dev/null; }
wait_for 15 status_has '.ready == true'
expect_eq "daemon ready" 0 $?
done_q="select count(*) from remediations where action = 'remove_files' and outcome = 'succeeded'"
cleaned() { [[ "$(world_sql "$done_q")" -ge 1 ]]; }
wait_for 15 cleaned
expect_eq "a succeeded remove_files remediation" 1 "$(world_sql "$done_q")"
after=$(used)
((after <= 85)) && pass "usage under the warning line: $before% -> $after%" || fail "still $after% used"
expect_eq "... the two oldest files went, nothing else" "gone gone kept kept" \
  "$(for f in c0 c1 c2 c3; do [[ -e "$d/cache/$f.bin" ]] && echo -n "kept " || echo -n "gone "; done | sed 's/ $//')"
for f in "$d"/logs/app.log.{0..7} "$d/logs/young.log.1" "$d/logs/keep.txt" "$d/notlisted/big.old" \
  "$d/logs/mnt/inner.log.1" "$world/outside.log.1"; do
  [[ -e "$f" ]] || fail "$f was removed"
done
[[ -L "$d/logs/link.log.1" ]] && pass "the symlink to a file elsewhere is left alone" || fail "the symlink went"
pass "younger old files, other names, unlisted, elsewhere and the inner mount all kept"
changed=$(world_sql "select changed from remediations where action = 'remove_files'")
expect_match "the record lists what went" "removed 2 file\(s\), 512 KiB: $d/cache/c0.bin, $d/cache/c1.bin; $d 9[0-9]% -> 8[0-9]% used" "$changed"
ok_again() { status_has '.checks[] | select(.name == "disk") | .status == "ok"'; }
wait_for 10 ok_again
expect_eq "the disk check is OK again" 0 $?
grep -q "remedy: removed $d/cache/c0.bin" "$world/daemon.log"
expect_eq "the log lists every path removed" 0 $?

# ---- the operator's script, through `fleet-agent fix` beside the daemon: one that hangs is
# killed at its timeout, one that is not executable fails; both are recorded failed actions
sed '/^remedies:/,$d' "$world/agent.yaml" >"$world/script.yaml"
cat >>"$world/script.yaml" <<YAML
remedies:
  disk:
    script: $world/cleanup.sh
    script_timeout: 2s
YAML
printf '#!/bin/sh\nexec sleep 100007\n' >"$world/cleanup.sh"
chmod 0755 "$world/cleanup.sh"
chmod o+x "$world"
for i in $(seq 0 63); do
  (($(used) >= 95)) && break
  file "$d/notlisted/fill.$i" 64 0
done
((($(used) >= 95))) && pass "filled again to $(used)%" || fail "only $(used)% used"
began=$(date +%s)
out=$("$agent" fix --config "$world/script.yaml" --only disk 2>&1)
expect_eq "a script that hangs: fix ends, the disk still CRITICAL (2)" 2 $?
expect_match "... the script killed at its timeout" "killed after 2s \(its timeout\)" "$out"
took=$(($(date +%s) - began))
((took < 30)) && pass "... fix returned in ${took}s" || fail "fix took ${took}s"
pgrep -f "sleep 100007" >/dev/null && fail "the hanging script's process is still there" ||
  pass "... and its process is gone"
failed_q="select count(*) from remediations where action = 'run_script' and outcome = 'failed'"
expect_eq "... a failed run_script record" 1 "$(world_sql "$failed_q")"
chmod 0644 "$world/cleanup.sh"
out=$("$agent" fix --config "$world/script.yaml" --only disk 2>&1)
expect_eq "a script that is not executable: fix ends, CRITICAL (2)" 2 $?
expect_match "... saying it could not run" "could not run" "$out"
expect_eq "... a second failed run_script record" 2 "$(world_sql "$failed_q")"
kill -0 $daemon 2>/dev/null && pass "the daemon is still running" || fail "the daemon died"
finish
