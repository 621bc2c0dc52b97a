#!/bin/bash
# The Debian package on a real systemd (lib/systemd_box.sh), as an operator would use it:
# packaging/build-deb.sh builds it (and a second one with a bumped version) from
# FLEET_BUILD_DIR, lintian finds nothing, `apt-get install ./fleet-agent_*.deb` in the
# guest creates the state directory and the node key (printing its JWK and how to show it
# again) and starts the hardened unit; then: `fleet-agent check` and `systemctl status`
# agree; a hermes-gateway system unit and a hermes user's unit (linger) going down is
# seen within one interval; the hardened service reaches the hermes tmux socket, the
# Hermes home and an HTTPS upstream; reload applies a config and refuses a broken one
# without stopping; kill -9 and a frozen agent (watchdog) are restarted with no history
# lost; systemd-analyze security reaches the figure systemd/README.md claims; upgrade
# keeps key, history and the edited config; remove stops; purge removes state and config.
# Skips (77) without root or systemd-nspawn. About 2-3 minutes (the watchdog is 30 s).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/systemd_box.sh"
source "$here/lib/package_box.sh"
: "${FLEET_AGENT:?FLEET_AGENT must name the built binary}"
build_dir=${FLEET_BUILD_DIR:-$(dirname "$FLEET_AGENT")}
source_dir=${FLEET_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
receiver=${FLEET_RECEIVER:-$build_dir/receiver/fleet-receiver}
sdbox_require
for tool in dpkg-deb dpkg-shlibdeps lintian jq sqlite3 openssl python3; do
  command -v "$tool" >/dev/null ||
    { echo "FAIL: $tool is missing (bash packaging/install-deps.sh --test)"; exit 1; }
done
[[ -x "$receiver" ]] || { echo "FAIL: no fleet-receiver at $receiver"; exit 1; }
started=$SECONDS

# ---- the packages, built on the host -------------------------------------------------
work=$(mktemp -d /var/tmp/fleet-pkg.XXXXXX)  # /var/tmp: the guest sees it too
cleanup() { sdbox_teardown; rm -rf "$work"; }
trap cleanup EXIT
version=$(sed -n 's/^project(fleet-agent VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
deb1=$(bash "$source_dir/packaging/build-deb.sh" "$build_dir" "$work/v1" | tail -n 1)
deb2=$(VERSION="$version+next" bash "$source_dir/packaging/build-deb.sh" "$build_dir" "$work/v2" |
  tail -n 1)
[[ -f "$deb1" && -f "$deb2" ]] || { echo "FAIL: build-deb.sh did not build both packages"; exit 1; }
expect_eq "package file name" "fleet-agent_${version}-1_$(dpkg --print-architecture).deb" \
  "$(basename "$deb1")"
depends=$(dpkg-deb -f "$deb1" Depends)
expect_match "Depends from dpkg-shlibdeps" "libc6 \(>= .*libsystemd0" "$depends"
expect_match "Depends on libcurl, which is loaded on the first push" "libcurl3-gnutls \(>= 7\.85" "$depends"
contents=$(dpkg-deb -c "$deb1")
for f in usr/bin/fleet-agent lib/systemd/system/fleet-agent.service etc/fleet-agent/agent.yaml \
  usr/share/man/man1/fleet-agent.1.gz usr/share/doc/fleet-agent/copyright \
  usr/share/doc/fleet-agent/changelog.Debian.gz; do
  expect_match "package ships /$f" " \./$f\$" "$(grep -F "./$f" <<<"$contents")"
done
expect_eq "md5sums cover the files but the conffile (as dh_md5sums)" \
  "lib/systemd/system/fleet-agent.service usr/bin/fleet-agent no-conffile" \
  "$(dpkg-deb --ctrl-tarfile "$deb1" | tar -xO ./md5sums | awk '
    $2 == "usr/bin/fleet-agent" || $2 ~ /fleet-agent.service$/ { printf "%s ", $2 }
    $2 ~ /^etc\// { conf = 1 } END { print conf ? "conffile" : "no-conffile" }')"
expect_eq "conffiles" /etc/fleet-agent/agent.yaml "$(dpkg-deb -I "$deb1" conffiles)"
lintian_out=$(lintian --fail-on error,warning "$deb1" 2>&1)
expect_eq "lintian: no error or warning (exit)" 0 $?
expect_eq "lintian: nothing reported (overrides are in packaging/)" "" \
  "$(grep -E '^[EW]: ' <<<"$lintian_out")"
checks_of() { "$FLEET_AGENT" check --json "$@" | jq -c '[.checks[] | [.name, .status]]'; }
expect_eq "the shipped agent.yaml means the embedded defaults" "$(checks_of)" \
  "$(checks_of --config "$source_dir/packaging/agent.yaml")"
pkg_make_pki "$work/pki" || { echo "FAIL: cannot make the test certificates"; exit 1; }

# ---- the node before the package: a hermes user with its gateway, tmux and home ------
sdbox_boot || { echo "FAIL: could not boot systemd in a container"; exit 1; }
trap cleanup EXIT  # sdbox_boot set its own; cleanup tears the guest down too
pkg_hermes_world || { echo "FAIL: cannot set up the hermes user's world"; exit 1; }

# ---- install -------------------------------------------------------------------------
# A build machine's policy-rc.d (exit 101: start no service) is not on a real node.
sdbox_run rm -f /usr/sbin/policy-rc.d
install_out=$(sdbox_run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends "$deb1" 2>&1)
expect_eq "apt-get install ./fleet-agent_*.deb" 0 $?
expect_eq "installed version" "${version}-1" "$(sdbox_run dpkg-query -W -f '${Version}' fleet-agent)"
expect_eq "service active after install" active "$(sdbox_run systemctl is-active fleet-agent)"
if [[ "$(sdbox_run systemctl is-active fleet-agent)" != active ]]; then
  echo "$install_out"
  sdbox_run systemctl status --no-pager fleet-agent
  sdbox_run journalctl -u fleet-agent --no-pager | tail -n 30
  finish  # nothing else can be checked
fi
expect_eq "dpkg --verify: installed files match md5sums" "" "$(sdbox_run dpkg --verify fleet-agent)"
expect_eq "service enabled" enabled "$(sdbox_run systemctl is-enabled fleet-agent)"
expect_eq "state dir owner and mode (as StateDirectory= makes it)" "root root 750" \
  "$(sdbox_run stat -c '%U %G %a' /var/lib/fleet-agent)"
expect_eq "node key mode" "root 600" "$(sdbox_run stat -c '%U %a' /var/lib/fleet-agent/node.key)"
jwk=$(sdbox_run fleet-agent pubkey --jwk)
expect_match "install printed the public key" "$(sed 's/[][{}.*+?^$|()]/\\&/g' <<<"$jwk")" \
  "$install_out"
expect_match "install printed how to show it again" "show it again with: fleet-agent pubkey --jwk" \
  "$install_out"
expect_eq "shipped config as packaged" "$(md5sum <"$source_dir/packaging/agent.yaml")" \
  "$(sdbox_run sh -c 'md5sum </etc/fleet-agent/agent.yaml')"
expect_match "shipped config parses (to the defaults)" "valid" \
  "$(sdbox_run fleet-agent config check /etc/fleet-agent/agent.yaml)"
expect_match "man-page-style --help" "FILES:.*/etc/fleet-agent/agent.yaml.*EXIT STATUS:" \
  "$(sdbox_run fleet-agent --help | tr '\n' ' ')"

# ---- the operator's config: short intervals, an HTTPS upstream -----------------------
pkg_start_upstream "$jwk" || fail "could not start the receiver and its TLS proxy"
pkg_config system
pkg_reload_and_wait "the operator's config" "^up cron=ok disk=ok dispatch=ok gateway=ok tmux=ok$"
expect_match "hardened service reaches hermes's tmux socket in /tmp" \
  "BURN" "$(pkg_status_summary tmux)"
expect_match "hardened service reads the Hermes home (0700)" "0 jobs|no jobs|jobs" \
  "$(pkg_status_summary cron)"
pkg_expect_agree "all healthy"

# ---- gateway down, seen within one interval ------------------------------------------
pkg_expect_incident_within_interval "system unit" sdbox_run systemctl stop hermes-gateway.service
pkg_expect_agree "system gateway down"
sdbox_run systemctl start hermes-gateway.service
wait_for 10 pkg_no_open_incident gateway || fail "system unit back: incident not closed"

pkg_config user
pkg_reload_and_wait "scope user" "^up .*gateway=ok"
sdbox_run systemctl stop hermes-gateway.service  # from now on only the user unit runs
wait_for 10 pkg_summary_matches gateway "in hermes's user manager" ||
  fail "the gateway is not read from hermes's user manager: $(pkg_status_summary gateway)"
pkg_expect_incident_within_interval "hermes's user unit (linger)" \
  sdbox_user_systemctl hermes stop hermes-gateway.service
pkg_expect_agree "user gateway down"
sdbox_user_systemctl hermes start hermes-gateway.service
wait_for 10 pkg_no_open_incident gateway || fail "user unit back: incident not closed"

# ---- push over HTTPS from inside the sandbox -----------------------------------------
wait_for 20 pkg_receiver_has_records ||
  fail "no record reached the receiver over HTTPS: $(sdbox_run fleet-agent status --json | jq -c .push)"
expect_eq "push: records acknowledged over HTTPS, no error" true \
  "$(pkg_status_json | jq '.push.records_acknowledged > 0 and .push.last_error == null')"

# ---- reload: a new config applies, a broken one is refused without stopping ----------
pid=$(pkg_main_pid)
pkg_config user "BURN, NOPE"
pkg_reload_and_wait "a new config (tmux expects NOPE too)" "^DOWN .*tmux=critical"
expect_match "the new config applies: NOPE is missing" "NOPE" "$(pkg_status_summary tmux)"
sdbox_write /etc/fleet-agent/agent.yaml <<<"checks: {disk: {interval: banana}}"
sdbox_run systemctl reload fleet-agent
wait_for 10 pkg_journal_has "reload refused" || fail "broken config: no 'reload refused' in the journal"
expect_match "broken config: the error names file:line:column" \
  "agent.yaml:1:[0-9]+: .*interval" "$(sdbox_run journalctl -u fleet-agent --no-pager -o cat)"
expect_eq "broken config: still active, same process" "active $pid" \
  "$(sdbox_run systemctl is-active fleet-agent) $(pkg_main_pid)"
sleep 4  # a status round: the old config (dispatch off) keeps running
expect_match "broken config: the last good config keeps running" "NOPE" "$(pkg_status_summary tmux)"
expect_match "broken config: its STATUS= too" "^DOWN .*tmux=critical" "$(pkg_status_text)"
pkg_config user
pkg_reload_and_wait "good config again" "^up cron=ok disk=ok dispatch=ok gateway=ok tmux=ok$"

# ---- kill -9 and SIGSTOP: restarted, history kept ------------------------------------
pkg_expect_restart_keeps_history "kill -9" 20 kill -9
pkg_expect_restart_keeps_history "SIGSTOP (watchdog)" 75 kill -STOP
expect_match "the watchdog did it" "[Ww]atchdog timeout" \
  "$(sdbox_run journalctl -u fleet-agent --no-pager)"

# ---- systemd-analyze security --------------------------------------------------------
claimed=$(sed -n 's/.*Exposure reached: \*\*\([0-9.]*\)\*\*.*/\1/p' "$source_dir/systemd/README.md")
measured=$(sdbox_run systemd-analyze security --no-pager fleet-agent.service 2>/dev/null |
  sed -n 's/.*Overall exposure level for fleet-agent.service: \([0-9.]*\).*/\1/p')
expect_match "systemd/README.md claims a figure" '^[0-9]+\.[0-9]$' "$claimed"
expect_eq "systemd-analyze security reaches the claimed figure" "$claimed" "$measured"

# ---- upgrade keeps key, history, the operator's config; restarts ---------------------
key_before=$(sdbox_run sha256sum /var/lib/fleet-agent/node.key)
config_before=$(sdbox_run md5sum /etc/fleet-agent/agent.yaml)
pkg_history_snapshot
pid=$(pkg_main_pid)
sdbox_run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "$deb2" >"$work/upgrade.log" 2>&1
expect_eq "upgrade with apt-get install" 0 $?
expect_eq "upgraded version" "${version}+next-1" \
  "$(sdbox_run dpkg-query -W -f '${Version}' fleet-agent)"
expect_eq "upgrade keeps the node key" "$key_before" \
  "$(sdbox_run sha256sum /var/lib/fleet-agent/node.key)"
expect_eq "upgrade keeps the operator's config" "$config_before" \
  "$(sdbox_run md5sum /etc/fleet-agent/agent.yaml)"
expect_eq "upgrade: active again" active "$(sdbox_run systemctl is-active fleet-agent)"
new_pid=$(pkg_main_pid)
[[ "$new_pid" != "$pid" && "$new_pid" != 0 ]] && pass "upgrade restarted the service" ||
  fail "upgrade did not restart the service (pid $pid -> $new_pid)"
pkg_expect_history_kept "upgrade"
expect_eq "upgrade: a clean restart" "1" \
  "$(pkg_sql 'select clean_previous_stop from agent_runs order by id desc limit 1')"

# ---- remove stops, purge removes state and config ------------------------------------
sdbox_run dpkg -r fleet-agent >"$work/remove.log" 2>&1
expect_eq "dpkg -r" 0 $?
expect_eq "remove stops the service" "inactive" "$(sdbox_run systemctl is-active fleet-agent)"
expect_eq "remove: no agent process left" "" "$(sdbox_run pgrep -x fleet-agent)"
expect_eq "remove keeps the key and config" "yes yes" \
  "$(sdbox_run sh -c 'test -f /var/lib/fleet-agent/node.key && echo yes; test -f /etc/fleet-agent/agent.yaml && echo yes' | tr '\n' ' ' | sed 's/ $//')"
sdbox_run dpkg -P fleet-agent >"$work/purge.log" 2>&1
expect_eq "dpkg -P" 0 $?
expect_eq "purge removes state and config" "gone gone" \
  "$(sdbox_run sh -c 'test -e /var/lib/fleet-agent || echo gone; test -e /etc/fleet-agent || echo gone' | tr '\n' ' ' | sed 's/ $//')"

echo "package test took $((SECONDS - started)) s"
finish
