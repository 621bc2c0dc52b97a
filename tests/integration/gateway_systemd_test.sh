#!/bin/bash
# The gateway check against a real systemd booted in a container (lib/systemd_box.sh).
# Nothing installed (the summary names every place looked); the hermes user's unit
# installed without lingering (enable-linger hint), then active, stopped and failed, read
# as root and as hermes with scope user and auto; system units active (read by root over
# the private socket and by hermes over the system bus), stopped while a later configured
# name runs, failed and crash-looping; then no unit and a real gateway.pid of a live, a
# reused and a dead process. Each step asserts the exit code, status and summary.
# Skips (77) without root or systemd-nspawn. About 30 s (a minute on a busy machine).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/systemd_box.sh"
agent=${FLEET_AGENT:?FLEET_AGENT must name the built binary}
sdbox_require
command -v jq >/dev/null || { echo "FAIL: jq is missing (packaging/install-deps.sh --test)"; exit 1; }
sdbox_boot || { echo "FAIL: could not boot systemd in a container"; exit 1; }

# Inside the guest the binary must be runnable by the hermes user whatever the build path.
agent_in=/usr/local/bin/fleet-agent
sdbox_run install -m 0755 "$agent" "$agent_in" || { echo "FAIL: cannot install the agent"; exit 1; }
config_dir=/etc/fleet-agent-test

# run_check [--as USER] [--config FILE]: sets out, rc, status, summary, details.
run_check() {
  local as="" config=""
  while (($#)); do
    case $1 in
      --as) as=$2; shift 2 ;;
      --config) config=$2; shift 2 ;;
      *) echo "run_check: unknown $1" >&2; return 1 ;;
    esac
  done
  local cmd=("$agent_in" check --only gateway --json)
  [[ -n "$config" ]] && cmd+=(--config "$config_dir/$config")
  [[ -n "$as" ]] && cmd=(runuser -u "$as" -- "${cmd[@]}")
  out=$(sdbox_run "${cmd[@]}")  # stderr goes to the test log
  rc=$?
  status=$(jq -r '.checks[0].status' <<<"$out" 2>/dev/null || echo "no JSON: $out")
  summary=$(jq -r '.checks[0].summary' <<<"$out" 2>/dev/null || echo "no JSON: $out")
  details=$(jq -c '.checks[0].details' <<<"$out" 2>/dev/null || echo "{}")
}

# expect_check LABEL EXIT STATUS SUMMARY_REGEX [run_check args]
expect_check() {
  local label=$1 want_rc=$2 want_status=$3 regex=$4
  shift 4
  run_check "$@"
  expect_eq "$label: exit code" "$want_rc" "$rc"
  expect_eq "$label: status" "$want_status" "$status"
  expect_match "$label: summary" "$regex" "$summary"
}

detail() { jq -r "$1" <<<"$details"; }

# Waits until the unit's SubState is $2 (system manager, or a user's with $3).
wait_sub_state() {
  local unit=$1 want=$2 user=${3:-} got="" _
  for _ in $(seq 1 50); do
    if [[ -n "$user" ]]; then
      got=$(sdbox_user_systemctl "$user" show -p SubState --value "$unit")
    else
      got=$(sdbox_run systemctl show -p SubState --value "$unit")
    fi
    [[ "$got" == "$want" ]] && return 0
    sleep 0.1
  done
  fail "$unit never reached $want (last $got)"
}

unit_file() {  # unit_file EXEC [EXTRA SERVICE LINES]
  printf '[Unit]\nDescription=Hermes gateway (test stand-in)\n[Service]\nExecStart=%s\n%s\n' \
    "$1" "${2:-}"
}

# ---- nothing installed: the summary names every place looked ------------------------
expect_check "nothing anywhere" 2 critical \
  "gateway not found: no hermes-gateway.service or ai.hermes.gateway.service in the system manager or root's user manager \(not running\), no /root/.hermes/gateway.pid"
expect_eq "nothing anywhere: the system manager answered" answered \
  "$(detail '.managers[0].reach')"

sdbox_write "$config_dir/user.yaml" <<'EOF'
hermes:
  user: hermes
checks:
  gateway:
    scope: user
EOF
sdbox_write "$config_dir/auto.yaml" <<'EOF'
hermes:
  user: hermes
EOF
sdbox_write "$config_dir/system.yaml" <<'EOF'
hermes:
  user: hermes
checks:
  gateway:
    scope: system
EOF
for name in failing crashing; do
  sdbox_write "$config_dir/$name.yaml" <<EOF
checks:
  gateway:
    units: [gw-$name]
EOF
done

# ---- the hermes user's unit, read as root and as hermes ------------------------------
# The unit is written before the user manager starts, which then loads it by itself.
sdbox_add_user hermes || { fail "useradd hermes"; finish; }
sdbox_write /home/hermes/.config/systemd/user/hermes-gateway.service hermes \
  < <(unit_file "/bin/sleep infinity")
expect_check "user unit installed, user manager not running" 2 critical \
  "hermes-gateway.service is installed for hermes but hermes's user manager is not running .*loginctl enable-linger hermes" \
  --config user.yaml
sdbox_linger hermes || { fail "no user manager for hermes"; finish; }
sdbox_user_systemctl hermes start hermes-gateway.service
for as in root hermes; do
  expect_check "user unit active, read as $as" 0 ok \
    "^hermes-gateway.service active \(running\) in hermes's user manager" --config user.yaml --as "$as"
  expect_eq "user unit active, read as $as: manager" user "$(detail '.unit.manager')"
done
expect_check "user unit active, scope auto" 0 ok "in hermes's user manager" --config auto.yaml

sdbox_user_systemctl hermes stop hermes-gateway.service
expect_check "user unit stopped, read as root" 2 critical \
  "inactive \(dead\) in hermes's user manager.*\`systemctl --user -M hermes@ start hermes-gateway.service\`" \
  --config user.yaml
expect_check "user unit stopped, read as hermes" 2 critical \
  "inactive \(dead\) in hermes's user manager.*\`systemctl --user start hermes-gateway.service\`" \
  --config user.yaml --as hermes

# Killed from outside: the unit fails (Result=signal), as a crashed gateway's would.
sdbox_user_systemctl hermes start hermes-gateway.service
sdbox_user_systemctl hermes kill --signal=KILL hermes-gateway.service
wait_sub_state hermes-gateway.service failed hermes
for as in root hermes; do
  expect_check "user unit failed, read as $as" 2 critical \
    "hermes-gateway.service failed \(signal\) in hermes's user manager" --config user.yaml --as "$as"
done

# ---- system units (one daemon-reload: it takes seconds on a busy machine) -------------
sdbox_write /etc/systemd/system/hermes-gateway.service < <(unit_file "/bin/sleep infinity")
sdbox_write /etc/systemd/system/ai.hermes.gateway.service < <(unit_file "/bin/sleep infinity")
sdbox_write /etc/systemd/system/gw-failing.service < <(unit_file /bin/false)
# Like the units hermes writes (Restart=always), with a long pause between attempts.
sdbox_write /etc/systemd/system/gw-crashing.service \
  < <(unit_file /bin/false $'Restart=always\nRestartSec=60')
sdbox_run systemctl daemon-reload

sdbox_run systemctl start hermes-gateway.service
expect_check "system unit active" 0 ok \
  "^hermes-gateway.service active \(running\) in the system manager for "
expect_eq "system unit active: manager" system "$(detail '.unit.manager')"
expect_match "system unit active: main pid" '^[1-9][0-9]*$' "$(detail '.unit.main_pid')"
# An unprivileged reader reaches the system manager over the system bus.
expect_check "system unit read by hermes over the bus" 0 ok \
  "^hermes-gateway.service active \(running\) in the system manager" --config system.yaml --as hermes

# The first configured name that exists wins, even while a later one runs. (Once stopped,
# systemd may unload a unit and forget since when: "since" is optional.)
sdbox_run systemctl stop hermes-gateway.service
sdbox_run systemctl start ai.hermes.gateway.service
expect_check "system unit stopped" 2 critical \
  "hermes-gateway.service is inactive \(dead\) in the system manager.* \`systemctl start hermes-gateway.service\`"

sdbox_run systemctl start gw-failing.service
wait_sub_state gw-failing.service failed
expect_check "system unit failed" 2 critical \
  "gw-failing.service failed \(exit-code\) in the system manager" --config failing.yaml

sdbox_run systemctl start gw-crashing.service
wait_sub_state gw-crashing.service auto-restart
expect_check "system unit crash-looping" 2 critical "gw-crashing.service is crash-looping" \
  --config crashing.yaml

# ---- no unit: a real gateway.pid -----------------------------------------------------
sdbox_write "$config_dir/files.yaml" <<'EOF'
hermes:
  user: hermes
checks:
  gateway:
    units: [no-such-gateway]
EOF
pid=$(sdbox_run runuser -u hermes -- sh -c 'sleep 600 </dev/null >/dev/null 2>&1 & echo $!')
if [[ "$pid" =~ ^[1-9][0-9]*$ ]]; then
  # Field 22 of stat: the 20th field after the command name's closing parenthesis.
  start=$(sdbox_run sh -c "sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f20")
  write_pid() {
    sdbox_write /home/hermes/.hermes/gateway.pid hermes \
      <<<"{\"pid\": $pid, \"kind\": \"hermes-gateway\", \"argv\": [\"sleep\"], \"start_time\": $1}"
  }
  write_pid "$start"
  expect_check "gateway.pid of a live process" 0 ok "^gateway running as pid $pid \(no unit" \
    --config files.yaml
  write_pid $((start + 1))
  expect_check "gateway.pid whose pid was reused" 2 critical "pid $pid is now another process" \
    --config files.yaml
  write_pid "$start"
  sdbox_run kill "$pid"
  for _ in $(seq 1 50); do sdbox_run test -e "/proc/$pid" || break; sleep 0.1; done
  expect_check "gateway.pid of a dead process" 2 critical "gateway process gone: no process $pid" \
    --config files.yaml
else
  fail "could not start a stand-in gateway process (got '$pid')"
fi

finish
