#!/bin/bash
# The disk check against real filesystems: size-limited tmpfs mounts filled step by step.
# At every step the figures in `fleet-agent check --only disk --json` must equal what df
# prints for the same path (bytes, Use%, inodes, IUse%), and the status and exit code must
# follow the runbook: WARNING below 15% free, CRITICAL above 90% used (both exclusive, so
# the exact boundaries are tested on both sides), inodes likewise. Needs root to mount.
set -uo pipefail
source "$(dirname "$0")/lib/assert.sh"
agent=${FLEET_AGENT:?FLEET_AGENT must name the built binary}
require_root "mounting tmpfs"
command -v jq >/dev/null || { echo "FAIL: jq is missing (packaging/install-deps.sh --test)"; exit 1; }

work=$(mktemp -d /var/tmp/fleet-disk-test.XXXXXX)
space=$work/space    # 10 MiB = 2560 pages of 4 KiB: 90% and 85% fall on whole pages
inodes=$work/inodes  # 200 inodes (the root directory takes one)
cleanup() {
  for dir in "$space" "$inodes"; do
    mountpoint -q "$dir" && umount "$dir"
  done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$space" "$inodes"
mount -t tmpfs -o size=10m,nr_inodes=2000,mode=0755 tmpfs "$space" || { echo "FAIL: mount"; exit 1; }
mount -t tmpfs -o size=1m,nr_inodes=200,mode=0755 tmpfs "$inodes" || { echo "FAIL: mount"; exit 1; }
page=$(getconf PAGESIZE)
pages=$(($(stat -f -c %b "$space") * $(stat -f -c %S "$space") / page))

write_config() {  # FILE PATH...
  local file=$1
  shift
  {
    echo "checks:"
    echo "  disk:"
    echo "    paths:"
    for p in "$@"; do echo "      - $p"; done
  } >"$file"
}
write_config "$work/space.yaml" "$space"
write_config "$work/inodes.yaml" "$inodes"
write_config "$work/all.yaml" "$space" "$inodes" "$work/missing"

json=""
rc=""
run_check() {  # CONFIG: sets json and rc
  json=$("$agent" check --only disk --json --config "$1" 2>"$work/stderr")
  rc=$?
  if [[ -s "$work/stderr" ]]; then fail "stderr of check: $(head -c 300 "$work/stderr")"; fi
}
field() { jq -r "$1" <<<"$json"; }

# The config must be applied; without it the check looks at / and nothing below means much.
run_check "$work/space.yaml"
if [[ "$(field '.checks[0].details.paths[0].path')" != "$space" ]]; then
  fail "--config not applied: disk looked at '$(field '.checks[0].details.paths[0].path')' not '$space' (rc $rc)"
  finish
fi

# Compares path number INDEX of the last run with df for DIR.
compare_with_df() {  # LABEL DIR INDEX
  local label=$1 dir=$2 p=".checks[0].details.paths[$3]"
  local size used avail pcent itotal iused ipcent
  read -r size used avail pcent < <(df -B1 --output=size,used,avail,pcent "$dir" | tail -n 1)
  read -r itotal iused ipcent < <(df --output=itotal,iused,ipcent "$dir" | tail -n 1)
  pcent=${pcent%\%}
  ipcent=${ipcent%\%}
  local got=()  # one jq run per path: jq is slow to start on a loaded machine
  read -r -a got < <(field "$p | [.size_bytes, .used_bytes, .available_bytes, .used_percent,
    .free_percent, .inodes_total, .inodes_used, .inodes_used_percent] | map(tostring) | join(\" \")")
  expect_eq "$label: size_bytes = df size" "$size" "${got[0]-}"
  expect_eq "$label: used_bytes = df used" "$used" "${got[1]-}"
  expect_eq "$label: available_bytes = df avail" "$avail" "${got[2]-}"
  expect_eq "$label: used_percent = df Use%" "$pcent" "${got[3]-}"
  expect_eq "$label: free_percent = 100 - df Use%" "$((100 - pcent))" "${got[4]-}"
  expect_eq "$label: inodes_total = df Inodes" "$itotal" "${got[5]-}"
  expect_eq "$label: inodes_used = df IUsed" "$iused" "${got[6]-}"
  expect_eq "$label: inodes_used_percent = df IUse%" "$ipcent" "${got[7]-}"
}

expect_status() {  # LABEL STATUS EXIT
  expect_eq "$1: status" "$2" "$(field '.checks[0].status')"
  expect_eq "$1: path status" "$2" "$(field '.checks[0].details.paths[0].status')"
  expect_eq "$1: exit code" "$3" "$rc"
}

# Space: fill to a number of pages, check, compare.
fill_pages() { dd if=/dev/zero of="$space/fill" bs="$page" count="$1" status=none 2>/dev/null; }
space_step() {  # PAGES STATUS EXIT [SUMMARY-REGEX]
  fill_pages "$1"
  run_check "$work/space.yaml"
  local label="space $1/$pages pages"
  compare_with_df "$label" "$space" 0
  expect_status "$label" "$2" "$3"
  if [[ -n "${4:-}" ]]; then expect_match "$label: summary" "$4" "$(field '.checks[0].summary')"; fi
}

if ((pages != 2560)); then fail "tmpfs has $pages pages, expected 2560 (page size $page)"; finish; fi
expect_eq "empty tmpfs used_percent" 0 "$(field '.checks[0].details.paths[0].used_percent')"
space_step 1280 ok 0 "^$space 50% used, 5\.0 MiB free$"
space_step 2176 ok 0          # exactly 85% used = 15% free: not below 15%
space_step 2177 warning 1 "^$space 86% used \(1\.5 MiB free\): under 15% free — free space soon"
space_step 2253 warning 1     # ~88%
space_step 2304 warning 1     # exactly 90% used: not above 90%, but 10% free
space_step 2305 critical 2 "^$space 91% used \(1020 KiB free\): over 90% — free space now"
space_step 2400 critical 2
dd if=/dev/zero of="$space/rest" bs="$page" status=none 2>/dev/null  # until the disk is full
run_check "$work/space.yaml"
compare_with_df "space full" "$space" 0
expect_status "space full" critical 2
expect_eq "space full: 100%" 100 "$(field '.checks[0].details.paths[0].used_percent')"
rm -f "$space/rest"

# Inodes: create empty files until df counts the wanted number of used inodes.
files=0
use_inodes() {  # USED
  local have
  have=$(df --output=iused "$inodes" | tail -n 1)
  for ((; have < $1; have++)); do
    : >"$inodes/f$files" || return 1
    files=$((files + 1))
  done
}
inode_step() {  # USED STATUS EXIT [SUMMARY-REGEX]
  use_inodes "$1"
  run_check "$work/inodes.yaml"
  local label="inodes $1/200"
  compare_with_df "$label" "$inodes" 0
  expect_status "$label" "$2" "$3"
  if [[ -n "${4:-}" ]]; then expect_match "$label: summary" "$4" "$(field '.checks[0].summary')"; fi
}
inode_step 100 ok 0
inode_step 170 ok 0  # exactly 15% free
inode_step 171 warning 1 "inodes 86% used: inodes under 15% free — delete small files soon"
inode_step 180 warning 1  # exactly 90% used
inode_step 181 critical 2 "inodes 91% used: inodes over 90% — delete small files now"
while { : >"$inodes/f$files"; } 2>/dev/null; do files=$((files + 1)); done  # exhaust them
run_check "$work/inodes.yaml"
compare_with_df "inodes exhausted" "$inodes" 0
expect_status "inodes exhausted" critical 2
expect_eq "inodes exhausted: 100%" 100 "$(field '.checks[0].details.paths[0].inodes_used_percent')"
expect_eq "inodes exhausted: space still fine" 0 "$(field '.checks[0].details.paths[0].used_percent')"

# Several paths: each judged on its own, a missing one UNKNOWN with the reason, the worst
# wins and leads the summary.
fill_pages 1280
rm -f "$inodes"/f*
run_check "$work/all.yaml"
compare_with_df "several: space" "$space" 0
compare_with_df "several: inodes" "$inodes" 1
expect_eq "several: space ok" ok "$(field '.checks[0].details.paths[0].status')"
expect_eq "several: inodes ok" ok "$(field '.checks[0].details.paths[1].status')"
expect_eq "several: missing unknown" unknown "$(field '.checks[0].details.paths[2].status')"
expect_match "several: missing reason" "No such file or directory" \
  "$(field '.checks[0].details.paths[2].error')"
expect_eq "several: missing has no figures" null "$(field '.checks[0].details.paths[2].used_percent')"
expect_eq "several: overall unknown" unknown "$(field '.checks[0].status')"
expect_eq "several: exit 3" 3 "$rc"
expect_match "several: missing path first" "^$work/missing: No such file or directory" \
  "$(field '.checks[0].summary')"
fill_pages 2400
run_check "$work/all.yaml"
expect_eq "several, one full: overall critical" critical "$(field '.checks[0].status')"
expect_eq "several, one full: exit 2" 2 "$rc"
expect_match "several, one full: full path first" "^$space 94% used" "$(field '.checks[0].summary')"
expect_match "several, one full: missing still reported" "; $work/missing: No such file" \
  "$(field '.checks[0].summary')"

finish
