#!/bin/bash
# The web dashboard in a real headless Chromium (Debian's chromium, driven by the npm package
# playwright-core, installed for the test in its work directory), against a real receiver
# serving HTTPS on 127.0.0.1 with a self-signed pair and holding a known month of two
# operators' signed records (lib/dashboard_world.sh): op-7 logs in through the form, sees
# its node and not op-8's, the heat map of October 2026 whose cells add up to `fleet-receiver
# uptime --json`'s figures, follows a cell to a signed record (kid, verified, JWS),
# downloads the day's NDJSON and verifies every line with the npm package jose, fails to
# open op-8's node, records and statement, logs out; the admin's link checker finds no
# broken same-origin link (browser/dashboard.mjs). Screenshots of the fleet, node and
# records pages are kept under build/test-artefacts/dashboard_browser/ (printed).
# Without Chromium, Node.js or the npm registry the test skips, saying so; under the test
# command (FLEET_NO_SKIP) that is a failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/dashboard_world.sh"
CHROMIUM=${FLEET_CHROMIUM:-/usr/bin/chromium}

dash_require
[[ -x $CHROMIUM ]] || dash_skip "no Chromium at $CHROMIUM (apt-get install chromium; packaging/install-deps.sh --test)"
command -v node >/dev/null && command -v npm >/dev/null ||
  dash_skip "Node.js and npm are needed (packaging/install-deps.sh --test)"
# playwright-core 1.64.1 is the one made for Chromium 156, Debian 12's chromium
# (bookworm-security), and needs Node.js 20; 1.61.1 is the last for Node.js 18, Debian 12's
# nodejs, and drives Chromium 156 as well. FLEET_PLAYWRIGHT_CORE overrides.
if (($(node -p 'process.versions.node.split(".")[0]') >= 20)); then
  PLAYWRIGHT_CORE=${FLEET_PLAYWRIGHT_CORE:-playwright-core@1.64.1}
else
  PLAYWRIGHT_CORE=${FLEET_PLAYWRIGHT_CORE:-playwright-core@1.61.1}
fi
trap dash_down EXIT
work=$(mktemp -d /var/tmp/fleet-dash-browser.XXXXXX)
mkdir -p "$work/npm" "$work/out"
# The npm registry is the one thing here from outside the machine.
if ! (cd "$work/npm" && npm init -y >/dev/null 2>&1 &&
  npm install --no-audit --no-fund "$PLAYWRIGHT_CORE" jose@5 >npm.log 2>&1); then
  tail -n 20 "$work/npm/npm.log"
  rm -rf "$work"
  dash_skip "npm install $PLAYWRIGHT_CORE jose@5 failed (registry unreachable?)"
fi
cp "$here/browser/"*.mjs "$work/npm/"
echo "chromium: $("$CHROMIUM" --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2), node $(node --version), $PLAYWRIGHT_CORE"

dash_up "$work" || { cat "$work/receiver.log"; echo "cannot set up the receiver and its records"; exit 1; }

# The uptime report of the month for node-7: what the heat map must add up to.
"$FLEET_RECEIVER" uptime --db "$dash_db" --month "$DASH_MONTH" --json >"$work/uptime.json"
expect_eq "fleet-receiver uptime --json" 0 $?
jq '.nodes[] | select(.node == "node-7")' "$work/uptime.json" >"$work/node-7.uptime.json"
# The records went in as made: 3,000 minutes from Oct 3, every 50th down; Oct 2..31 registered.
expect_eq "node-7's figures as filled (up down unmeasured up_late)" "2940 60 40200 2940" \
  "$(jq -r '"\(.up) \(.down) \(.unmeasured) \(.up_late)"' "$work/node-7.uptime.json")"

op7=$(dash_token --operator op-7 --label browser)
expect_match "tokens add --operator op-7 prints a token" '^fr_[A-Za-z0-9_-]{43}$' "$op7"
admin=$(dash_token --admin --label link-checker)
expect_match "tokens add --admin prints a token" '^fr_[A-Za-z0-9_-]{43}$' "$admin"

# The fleet's JSON (the fleet page's data, /v1/fleet) with the admin's bearer token: node-7's
# three incidents (fleet-spool-fill's FILL_ALERTS) were all closed in October, so none is open.
code=$(dash_curl -o "$work/fleet.json" -w '%{http_code}' -H "Authorization: Bearer $admin" "$dash_url/v1/fleet")
expect_eq "/v1/fleet as the admin" 200 "$code"
expect_eq "node-7's incidents, all closed, are no open alerts" "0" \
  "$(jq -c '[.. | objects | select(.node? == "node-7") | .open_alerts | length] | first' "$work/fleet.json")"

# node-7's state on the fleet page: its last heartbeat is in the known month; silent, or
# never_seen when that is more than the 35 days receiver/report/node_states.h looks back.
last=$(($(dash_minute "$DASH_NODE7_FIRST") + DASH_NODE7_MINUTES - 1))
state=silent
(($(date +%s) - last * 60 > 35 * 86400)) && state=never_seen
jq -n --arg url "$dash_url" --arg month "$DASH_MONTH" --arg chromium "$CHROMIUM" \
  --arg out "$work/out" --arg op7 "$op7" --arg admin "$admin" --arg jwk "$work/node-7.jwk" --arg state "$state" \
  --slurpfile report "$work/node-7.uptime.json" '{
    url: $url, month: $month, chromium: $chromium, out_dir: $out, admin_token: $admin,
    operator: {id: "op-7", token: $op7, node: "node-7", jwk_file: $jwk, state: $state},
    other: {operator: "op-8", node: "node-8", day: "2026-10-05",
            unknown_operator: "op-9", unknown_node: "node-9"},
    report: ($report[0] | {up, down, unmeasured, up_late, uptime_percent}),
    none_day: "2026-10-01"}' >"$work/config.json"

(cd "$work/npm" && timeout 300 node dashboard.mjs "$work/config.json") 2>&1 | tee "$work/browser.log"
expect_eq "the browser checks (browser/dashboard.mjs)" 0 "${PIPESTATUS[0]}"
grep -q '^all browser checks passed$' "$work/browser.log"
expect_eq "... ran to their end" 0 $?

expect_eq "the receiver is still running" 0 "$(dash_receiver_alive; echo $?)"
# The screenshots outlive the work directory: under the build's test-artefacts when run by
# ctest (FLEET_BUILD_DIR), else beside the work directory.
artefacts=${FLEET_BUILD_DIR:+$FLEET_BUILD_DIR/test-artefacts/dashboard_browser}
artefacts=${artefacts:-/var/tmp/fleet-dash-browser-artefacts}
rm -rf "$artefacts" && mkdir -p "$artefacts"
cp "$work/out/"* "$work/browser.log" "$artefacts/" 2>/dev/null
for png in fleet node records; do
  if [[ -s "$artefacts/$png.png" ]]; then echo "artefact: $artefacts/$png.png"; else fail "no $png.png screenshot"; fi
done
if ((failures > 0)); then
  echo "--- receiver log (tail)"
  tail -n 30 "$work/receiver.log"
fi
finish
