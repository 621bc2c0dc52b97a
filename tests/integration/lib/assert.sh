# Small assertion helpers for the shell integration tests. Source it; each failure prints
# what was expected and what was seen, and the test exits 1 at the end if any failed.
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
expect_eq() {  # expect_eq WHAT EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then pass "$1 = $3"; else fail "$1: expected '$2', got '$3'"; fi
}
expect_match() {  # expect_match WHAT REGEX TEXT
  if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1: '$3' does not match /$2/"; fi
}
finish() {
  if ((failures > 0)); then echo "$failures assertion(s) failed" >&2; exit 1; fi
  echo "all assertions passed"
}
require_root() {
  if [[ $(id -u) -ne 0 ]]; then echo "SKIPPED: $1 needs root"; exit 77; fi
}
wait_for() {  # wait_for SECONDS COMMAND...: true once COMMAND succeeds (re-run each time)
  local until=$((SECONDS + $1)); shift
  while ((SECONDS < until)); do "$@" 2>/dev/null && return 0; sleep 0.2; done
  return 1
}
