#!/bin/bash
# The monthly reports on real records: a registry imported from YAML (operators, nodes
# with their keys and dates, referrals), a real agent pushing a whole October of minutes
# (a compressed clock, every 100th minute down; three critical incidents, two of them
# acknowledged) to a real receiver, then `fleet-receiver uptime` and `statement` as table,
# JSON and CSV, checked figure by figure.
# On SQLite here; receiver_reports_pg_test.sh sources this file for the same checks on
# PostgreSQL (reports_registry_checks, reports_month_checks) and compares the two.
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
R() { "$FLEET_RECEIVER" "$@"; }

# reports_registry_yaml: $pair/registry.yaml (op-2's node has a second key, never reporting).
reports_registry_yaml() {
  mkdir -p "$pair/other"
  "$FLEET_AGENT" keygen --state-dir "$pair/other" >/dev/null
  "$FLEET_AGENT" pubkey --jwk --state-dir "$pair/other" >"$pair/other.jwk"
  cat >"$pair/registry.yaml" <<YAML
operators:
  - id: op-1
    name: Ada
    since: 2026-03-01
    nodes:
      - {id: test-node, jwk_file: $pair/node.jwk, added: 2026-10-01}
  - id: op-2
    name: Bo
    since: 2026-09-01
    nodes:
      - {id: silent-node, jwk: '$(cat "$pair/other.jwk")', added: 2026-09-20}
  - id: op-3
    name: Cy
    since: 2025-01-01
referrals:
  - {partner: op-1, referred: op-2, date: 2026-09-01}
  - {partner: op-1, referred: op-3, date: 2025-01-01}
YAML
}

# reports_registry_checks DB COUNT_OPERATORS_CMD...: import, import again, list, bad files
# (the last command prints how many operators the database holds).
reports_registry_checks() {
  local db=$1 out
  shift
  out=$(R registry import --db "$db" "$pair/registry.yaml")
  expect_eq "registry import exit" 0 $?
  expect_match "import summary" "imported 3 operators, 2 new nodes \(0 already registered\), 0 revocations, 2 referrals" "$out"
  out=$(R registry import --db "$db" "$pair/registry.yaml")
  expect_match "import again: idempotent" "0 new nodes \(2 already registered\)" "$out"
  expect_eq "operators listed" "op-1 op-2 op-3" "$(R operators list --db "$db" --json | jq -r '[.[].id]|join(" ")')"
  printf 'operators:\n  - {id: op-9, name: X, since: 2026-02-30}\n' >"$pair/bad.yaml"
  R registry import --db "$db" "$pair/bad.yaml" 2>"$pair/err"
  expect_eq "a bad date: usage error" 2 $?
  expect_match "a bad date: says where" "operators\[0\].since: 2026-02-30 is not a day of that month" "$(cat "$pair/err")"
  printf 'operators: [\n' >"$pair/broken.yaml"
  R registry import --db "$db" "$pair/broken.yaml" 2>/dev/null
  expect_eq "broken YAML: usage error" 2 $?
  expect_eq "nothing of a bad file was written" 3 "$("$@")"
}

# reports_push_october: October 2026 (44,640 minutes), every 100th down, and the alerts of
# fleet-spool-fill's FILL_ALERTS, pushed by a real agent to the receiver receiver_start starts.
reports_push_october() {
  local oct=$(( $(date -u -d 2026-10-01T00:00:00Z +%s) / 60 ))
  agent_config "http://127.0.0.1:$receiver_port" "  drain_rate: 100000"
  receiver_start || fail "receiver did not start"
  FILL_DOWN_EVERY=100 FILL_ALERTS=1 spool_fill 44640 "$oct"
  agent_start
  wait_for 120 all_delivered
  expect_eq "October delivered" 0 $?
}

# reports_month_checks DB: uptime and statement for October, figure by figure.
reports_month_checks() {
  local db=$1 json s
  json=$(R uptime --db "$db" --month 2026-10 --json)
  expect_eq "uptime exit" 0 $?
  node() { jq -r ".nodes[]|select(.node==\"$1\")|.$2" <<<"$json"; }
  expect_eq "test-node minutes in October" 44640 "$(node test-node minutes)"
  expect_eq "test-node up" 44194 "$(node test-node up)"
  expect_eq "test-node down" 446 "$(node test-node down)"
  expect_eq "test-node unmeasured" 0 "$(node test-node unmeasured)"
  expect_eq "test-node uptime %" 99 "$(node test-node uptime_percent)"
  expect_eq "all up minutes arrived late (pushed in November)" 44194 "$(node test-node up_late)"
  expect_eq "silent-node measured from its first day (Oct 1, added Sep 20)" 44640 "$(node silent-node unmeasured)"
  local csv
  csv=$(R uptime --db "$db" --month 2026-10 --csv)
  expect_match "uptime CSV row" $'\nnode,test-node,op-1,44640,44194,446,0,99.00,0,44194,' "$csv"
  expect_match "uptime table" "test-node +op-1 +99.00%" "$(R uptime --db "$db" --month 2026-10)"

  s=$(R statement --db "$db" --month 2026-10 --json)
  expect_eq "statement exit" 0 $?
  op() { jq -r ".operators[]|select(.operator==\"$1\")|$2" <<<"$s"; }
  expect_eq "op-1 base" 150 "$(op op-1 .base)"
  expect_eq "op-1 uptime bonus missed at 99.00%" false "$(op op-1 '.bonuses[]|select(.bonus=="uptime").earned')"
  expect_eq "op-1 alert bonus: every alert answered" 20 "$(op op-1 '.bonuses[]|select(.bonus=="incidents").amount')"
  expect_eq "op-1 alerts: answered, late acks, MTTA, MTTR" "3:3:2:1470:3240" \
    "$(op op-1 '.alerts|"\(.alerts):\(.answered):\(.late_acks):\(.mtta_seconds):\(.mttr_seconds)"')"
  expect_eq "op-1 alerts: how each was answered" "gateway acknowledged,tmux resolved,disk resolved" \
    "$(op op-1 '.alerts.list|map("\(.check) \(.answer)")|join(",")')"
  expect_eq "op-1 is a partner (2 referrals)" true "$(op op-1 .partner)"
  expect_eq "op-1 commission from op-2 only (op-3 past 12 months), on op-2's base of 0" "op-2:0:10" \
    "$(op op-1 '.commissions|map("\(.referred):\(.base_part):\(.months_left)")|join(",")')"
  expect_eq "op-1 total" 170 "$(op op-1 .total)"
  expect_eq "op-1 test-node counted toward base" "1:1:0" "$(op op-1 '"\(.nodes):\(.measured_nodes):\(.left_out|length)"')"
  expect_eq "op-2 no base, nothing measured" "0:0" "$(op op-2 '"\(.base):\(.bonus_total)"')"
  expect_eq "op-2 silent-node left out, measured 0 minutes" "silent-node:0" \
    "$(op op-2 '.left_out|map("\(.node):\(.measured_minutes)")|join(",")')"
  expect_eq "op-3 without nodes" "0:0" "$(op op-3 '"\(.nodes):\(.total)"')"
  expect_eq "bonuses due" 2026-11-07 "$(jq -r .bonuses_due <<<"$s")"
  expect_match "statement CSV" $'\nop-1,commission,op-2 \\(10 months left\\),true,0.00\n' \
    "$(R statement --db "$db" --month 2026-10 --csv)"
  expect_match "statement table" "late minutes count toward uptime" "$(R statement --db "$db" --month 2026-10)"
  expect_match "statement table: the left-out node" "left out +silent-node: measured 0 of the 10080 minutes" \
    "$(R statement --db "$db" --month 2026-10)"
  expect_match "statement table: an alert acknowledged late" \
    "alert +test-node incident 1 \(gateway, opened 2026-10-01T00:10:30Z\): acknowledged by ada via telegram after 4m \(late: from the spool\)" \
    "$(R statement --db "$db" --month 2026-10)"
  expect_match "statement table: MTTA and MTTR" "alert times MTTA 24m30s over 2 acknowledged, MTTR 54m over 3 resolved" \
    "$(R statement --db "$db" --month 2026-10)"
  s=$(R statement --db "$db" --month 2026-10 --late-minutes ignore --json)
  expect_eq "late acks not counted: the acknowledged-only alert is not answered" "false:2" \
    "$(op op-1 '"\(.bonuses[]|select(.bonus=="incidents").earned):\(.alerts.answered)"')"

  R uptime --db "$db" --month 2026-13 2>/dev/null
  expect_eq "bad month: usage error" 2 $?
}

# Sourced by the PostgreSQL test: only the functions above.
[[ ${BASH_SOURCE[0]} != "$0" ]] && return 0

pair_require
trap pair_down EXIT
PAIR_REGISTER=0 pair_up "$(mktemp -d /var/tmp/fleet-reports.XXXXXX)" || { echo "cannot set up"; exit 1; }
db=$pair/receiver.db
reports_registry_yaml
reports_registry_checks "$db" sqlite3 "$db" 'select count(*) from operators'
reports_push_october
reports_month_checks "$db"
R statement --db "$pair/nope.db" --month 2026-10 2>/dev/null
expect_eq "missing database: runtime error" 1 $?
finish
