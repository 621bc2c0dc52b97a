# Bash helpers for the fake chat server (tests/integration/fakes/fake_chat.py): Telegram,
# Discord and a generic webhook on one loopback port. Source it (after lib/assert.sh), then:
#   fake_chat_start DIR [fake_chat.py options]   start it; sets FAKE_CHAT_PID, FAKE_CHAT_PORT,
#                                                FAKE_CHAT_URL (http://127.0.0.1:PORT)
#   fake_chat_stop                               stop it (call from the test's exit trap)
#   fake_chat_calls [JQ_FILTER]                  the calls so far, through jq (default: .)
#   fake_chat_script JSON                        canned answers for the next matching calls
#   fake_chat_press JSON                         inject a Telegram button press
#   fake_chat_reset                              forget calls, scripts, messages, updates
# The options and the script format are in fake_chat.py's docstring.
FAKE_CHAT_PY=${FAKE_CHAT_PY:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../fakes" && pwd)/fake_chat.py}
FAKE_CHAT_PID=
FAKE_CHAT_PORT=
FAKE_CHAT_URL=

fake_chat_start() {  # fake_chat_start DIR [options...]: waits for its port file, 10 s at most
  local dir=$1
  shift
  command -v python3 >/dev/null || { echo "SKIPPED: python3 is not installed (the fake chat server)"; exit 77; }
  rm -f "$dir/fake_chat.port"
  python3 "$FAKE_CHAT_PY" --port-file "$dir/fake_chat.port" "$@" >"$dir/fake_chat.log" 2>&1 &
  FAKE_CHAT_PID=$!
  local until=$((SECONDS + 10))
  while [[ ! -s "$dir/fake_chat.port" ]]; do
    if ! kill -0 "$FAKE_CHAT_PID" 2>/dev/null || ((SECONDS >= until)); then
      echo "the fake chat server did not start:" >&2
      cat "$dir/fake_chat.log" >&2
      return 1
    fi
    sleep 0.1
  done
  FAKE_CHAT_PORT=$(<"$dir/fake_chat.port")
  FAKE_CHAT_URL="http://127.0.0.1:$FAKE_CHAT_PORT"
}

fake_chat_stop() {
  [[ -n "$FAKE_CHAT_PID" ]] || return 0
  kill "$FAKE_CHAT_PID" 2>/dev/null
  wait "$FAKE_CHAT_PID" 2>/dev/null
  FAKE_CHAT_PID=
}

# A control call: fake_chat_control PATH [JSON]
fake_chat_control() {
  local body=${2:-'{}'}
  curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' --data-binary "$body" \
    "$FAKE_CHAT_URL/_fake/$1"
}

fake_chat_calls() { curl -sS --max-time 10 "$FAKE_CHAT_URL/_fake/calls" | jq -c "${1:-.}"; }
fake_chat_script() { fake_chat_control script "$1" >/dev/null; }
fake_chat_press() { fake_chat_control press "$1"; }
fake_chat_reset() { fake_chat_control reset >/dev/null; }
