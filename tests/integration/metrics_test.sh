#!/bin/bash
# Metrics on both sides, end to end over loopback: a real receiver (GET /metrics on) and a
# real agent daemon with `metrics: {listen: ...}` pushing to it. The agent's gauges match
# `fleet-agent status --json` read from the same status.json write; its push state and the
# receiver's ingested counter move as heartbeats go through; the node shows live at the
# receiver; a garbage batch counts as refused by reason "invalid"; a slowloris on the agent's
# port is cut within its read timeout (5 s) and scrapes still work; /metrics off with
# --metrics off. The exposition's format itself is checked by the strict reader in the C++
# tests (tests/support/exposition_parser.h).
set -uo pipefail
here=$(dirname "$0")
source "$here/lib/assert.sh"
source "$here/lib/push_pair.sh"
pair_setup

metrics_port=$(free_port)
agent_config "http://127.0.0.1:$receiver_port"
printf 'metrics: {listen: "127.0.0.1:%s"}\n' "$metrics_port" >>"$pair/agent.yaml"
receiver_start || fail "receiver did not start"
agent_start

# series URL KEY: the value of the series written exactly KEY (name{labels}).
series() { curl -sf --max-time 5 "$1" | awk -v k="$2" '$1 == k {print $2}'; }
agent_url="http://127.0.0.1:$metrics_port/metrics"
receiver_url="http://127.0.0.1:$receiver_port/metrics"
at_least() { local v; v=$(series "$1" "$2"); [[ -n "$v" ]] && awk -v v="$v" -v n="$3" 'BEGIN {exit !(v >= n)}'; }

wait_for 20 at_least "$agent_url" fleet_agent_ready 1
expect_eq "agent: ready shows in its metrics" 0 $?
wait_for 150 at_least "$receiver_url" 'fleet_receiver_records_ingested_total{outcome="stored"}' 2
expect_eq "receiver: records the agent pushed count as stored" 0 $?
wait_for 20 at_least "$agent_url" 'fleet_agent_push_state{state="idle"}' 1
expect_eq "agent: push state idle once the spool is acknowledged" 0 $?
wait_for 20 at_least "$receiver_url" 'fleet_receiver_nodes{state="live"}' 1
expect_eq "receiver: the node is live" 0 $?

# The agent's gauges against status --json from the same status.json write (the document is
# rewritten every few seconds: read status, scrape, read status, until both reads agree).
consistent=1
for _ in $(seq 20); do
  before=$(agent_status_json)
  text=$(curl -sf --max-time 5 "$agent_url")
  after=$(agent_status_json)
  updated=$(jq -r '.updated | fromdateiso8601' <<<"$before")
  [[ "$updated" == "$(jq -r '.updated | fromdateiso8601' <<<"$after")" ]] &&
    [[ "$(awk '$1 == "fleet_agent_status_timestamp_seconds" {print $2}' <<<"$text")" == "$updated" ]] &&
    { consistent=0; break; }
  sleep 0.3
done
expect_eq "a scrape and status --json from the same status.json write" 0 "$consistent"
value() { awk -v k="$1" '$1 == k {print $2}' <<<"$text"; }
for check in $(jq -r '.checks[].name' <<<"$before"); do
  status=$(jq -r ".checks[]|select(.name==\"$check\")|.status" <<<"$before")
  declare -A number=([ok]=0 [warning]=1 [critical]=2 [unknown]=3)
  expect_eq "check $check: status gauge is status --json's ($status)" "${number[$status]}" \
    "$(value "fleet_agent_check_status{check=\"$check\"}")"
  expect_eq "check $check: last run is its checked_at" \
    "$(jq -r ".checks[]|select(.name==\"$check\")|.checked_at|fromdateiso8601" <<<"$before")" \
    "$(value "fleet_agent_check_last_run_timestamp_seconds{check=\"$check\"}")"
done
expect_eq "spool records as status --json" "$(jq .spool.records <<<"$before")" \
  "$(value fleet_agent_spool_records)"
expect_eq "spool bytes as status --json" "$(jq .spool.bytes <<<"$before")" \
  "$(value fleet_agent_spool_bytes)"
expect_eq "push state as status --json" 1 \
  "$(value "fleet_agent_push_state{state=\"$(jq -r .push.state <<<"$before")\"}")"
expect_eq "up as status --json" "$(jq 'if .up then 1 else 0 end' <<<"$before")" \
  "$(value fleet_agent_up)"

# A refused batch, counted by its reason.
invalid_before=$(series "$receiver_url" 'fleet_receiver_records_refused_total{reason="invalid"}')
curl -s -o /dev/null -H 'Content-Type: application/x-ndjson' --data-binary $'not.a.jws\n' \
  "http://127.0.0.1:$receiver_port/v1/records"
expect_eq "receiver: a garbage line counts as refused, reason invalid" "$((invalid_before + 1))" \
  "$(series "$receiver_url" 'fleet_receiver_records_refused_total{reason="invalid"}')"
expect_eq "receiver: commits were timed" 1 \
  "$(at_least "$receiver_url" fleet_receiver_db_commit_duration_seconds_count 1 && echo 1)"

# A slowloris on the agent's port: cut within the read timeout, the daemon unharmed.
exec 3<>"/dev/tcp/127.0.0.1/$metrics_port"
printf 'GET /metrics HTTP/1.1\r\n' >&3
start=$SECONDS
cut=1
for _ in $(seq 40); do
  printf 'X' >&3 2>/dev/null || { cut=0; break; }
  if read -r -t 0.3 -u 3 _; then :; elif (($? < 128)); then cut=0; break; fi
done
exec 3<&-
expect_eq "agent: a slowloris is cut" 0 "$cut"
expect_eq "... within the 5 s read timeout (and a little)" 1 "$(((SECONDS - start) <= 8))"
expect_eq "agent: still scraped after it" 1 "$(series "$agent_url" fleet_agent_ready)"
expect_eq "agent: 404 elsewhere" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/")"
kill -0 "$agent_pid" || fail "the agent died"

receiver_stop
"$FLEET_RECEIVER" serve --listen "127.0.0.1:$receiver_port" --db "$receiver_db" --metrics off \
  >>"$pair/receiver.log" 2>&1 &
receiver_pid=$!
wait_for 10 curl -sf "http://127.0.0.1:$receiver_port/healthz" -o /dev/null
expect_eq "receiver --metrics off: /metrics is 404" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$receiver_url")"
agent_stop TERM
finish
