#!/usr/bin/env bash
# The architecture as the code and the link graph show it (README "Layout"): base/ <-
# core/ <- collectors/ <- agent/, base/ <- protocol/ <- agent/ and receiver/, and base/ <-
# alerting/ <- agent/ and receiver/. Fails
# when a source includes a folder it must not lean on, or when a library links one.
# The link graph is CMake's own (--graphviz of a throwaway configure of this checkout).
set -euo pipefail
src=${FLEET_SOURCE_DIR:?}
work=$(mktemp -d /tmp/fleet-layering.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# folder -> the folders its sources may include (besides itself)
declare -A may_include=(
  [base]=""
  [protocol]="base"
  [core]="base"
  [collectors]="base core"
  # The history gets what checks found out in their results (CheckResult), never from a
  # collector's own rules.
  [agent/history]="agent base core protocol"
  # The receiver alerts too (receiver/alerts/), with the same library as the agent.
  [receiver]="base protocol alerting"
  # Alerting (Telegram, Discord) serves the agent and the receiver alike: it leans on
  # neither.
  [alerting]="base"
  [fuzz]="base protocol receiver"
  # bench/dashboard_bench.cc times the receiver's own dashboard code in process.
  [bench]="base protocol receiver"
)
for folder in "${!may_include[@]}"; do
  allowed="$folder ${may_include[$folder]}"
  while IFS= read -r line; do
    target=${line#*#include \"}
    top=${target%%/*}
    [[ -d "$src/$top" ]] || continue  # a system or library header
    [[ " $allowed " == *" $top "* ]] || fail "$folder/ includes $top/: ${line%%:*}: $target"
  done < <(grep -rn --include='*.h' --include='*.cc' '^#include "' "$src/$folder" |
           sed "s#^$src/##")
done

# What each library links, directly or not.
cmake -S "$src" -B "$work/build" -G Ninja -DFLEET_TESTS=ON --graphviz="$work/graph/deps.dot" \
  >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
# The graph's nodes ("node3" [ label = "fleet_core" ...]) and edges ("node3" -> "node7").
declare -A label_of node_of
while read -r node label; do
  label_of[$node]=$label
  node_of[$label]=$node
done < <(sed -n 's/^ *"\(node[0-9]*\)" \[ label = "\([^"]*\)".*/\1 \2/p' "$work/graph/deps.dot")
edges=$(sed -n 's/^ *"\(node[0-9]*\)" -> "\(node[0-9]*\)".*/\1 \2/p' "$work/graph/deps.dot")
reachable() {  # every library the target links, transitively
  local -a queue=("${node_of[$1]:?no target $1 in the link graph}")
  local -A seen=()
  while ((${#queue[@]})); do
    local n=${queue[0]}
    queue=("${queue[@]:1}")
    [[ -n ${seen[$n]:-} ]] && continue
    seen[$n]=1
    while read -r from to; do [[ $from == "$n" ]] && queue+=("$to"); done <<<"$edges"
  done
  for n in "${!seen[@]}"; do echo "${label_of[$n]}"; done
}
check_links() {  # target, libraries it must not link
  local target=$1
  shift
  local links
  links=$(reachable "$target")
  for forbidden in "$@"; do
    grep -qx "$forbidden" <<<"$links" && fail "$target links $forbidden"
  done
  echo "$target links: $(sort <<<"$links" | grep '^fleet_' | tr '\n' ' ')"
}
agent_libraries=(fleet_agent fleet_history fleet_records fleet_collectors fleet_core)
check_links fleet-receiver "${agent_libraries[@]}"
check_links fleet_receiver_report "${agent_libraries[@]}"
check_links fleet_protocol fleet_core fleet_collectors fleet_history fleet_records fleet_agent
check_links fleet_base fleet_protocol fleet_core fleet_collectors fleet_agent
check_links fleet_collectors fleet_protocol fleet_history fleet_records fleet_agent
check_links fleet-receiver-load "${agent_libraries[@]}"
check_links fleet_alerting fleet_protocol "${agent_libraries[@]}" fleet_receiver
# The check itself: the agent does link what the receiver must not (else the graph was
# read wrong and every check above passed by accident).
# (Read whole first: grep -q stops at the first match, and under pipefail the writer's
# SIGPIPE would fail the check at random.)
agent_links=$(reachable fleet-agent)
grep -qx fleet_collectors <<<"$agent_links" || fail "the link graph was not read: fleet-agent shows no fleet_collectors"

((failures == 0)) || { echo "$failures layering violation(s)"; exit 1; }
echo "layering: ok"
