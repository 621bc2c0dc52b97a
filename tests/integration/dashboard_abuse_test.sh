#!/bin/bash
# The dashboard and its /v1 JSON API under hostile requests, with curl over HTTPS against a
# real receiver holding two operators' records (lib/dashboard_world.sh): tokens wrong,
# malformed, expired (an expiry is a clock: polled for with a deadline, then it must stay
# refused) and revoked (its sessions end with it); a session cookie sent with another Host;
# login's cookie attributes and its redirect kept local; huge and malformed query strings;
# malformed form posts to /login (wrong content type, garbage, 1 MiB); path traversal and
# encoded NULs in the records' URLs; op-7's bearer token on op-8's node, records and
# statement answered exactly as unknown ones; failed logins limited per address. Each answer
# is a clear 4xx and nothing else: no stack trace or database error, no record, no other
# operator's data; the receiver keeps answering /healthz, and logs no token or session secret.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/dashboard_world.sh"
dash_require
trap dash_down EXIT
work=$(mktemp -d /var/tmp/fleet-dash-abuse.XXXXXX)
dash_up "$work" || { cat "$work/receiver.log"; echo "cannot set up the receiver and its records"; exit 1; }
M=$DASH_MONTH
kid8=$(jq -r .kid "$work/node-8.jwk")
x8=$(jq -r .x "$work/node-8.jwk")

# req [CURL ARGS...] URL: the answer's status in $code, headers in $work/h, body in $work/b.
# SRC (default 127.0.0.1) is the address it comes from: each attack from an address of its
# own, so that the failed-login limit of one does not answer another.
req() {
  code=$(dash_curl --interface "${SRC:-127.0.0.1}" -D "$work/h" -o "$work/b" -w '%{http_code}' "$@")
}
header() { grep -i "^$1:" "$work/h" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
# clean WHAT: the body holds nothing it must not: no record (compact JWS), nothing of op-8's
# node (its kid, its key), no stack trace, exception or database error, no local file.
clean() {
  local body
  body=$(tr -d '\0' <"$work/b")
  local bad=""
  for needle in eyJ "$kid8" "$x8" "root:x:" "Traceback" "terminate called" "what()" "std::" \
    "exception" "sqlite" "SQLITE" "postgres" "syntax error" "/var/tmp" "/work/"; do
    [[ $body == *"$needle"* ]] && bad+=" '$needle'"
  done
  if [[ -z $bad ]]; then pass "$1: nothing else in the answer"; else fail "$1: the answer holds$bad: $(head -c 300 "$work/b")"; fi
}
# expect_code WHAT EXPECTED_REGEX: $code matches, and the body is clean.
expect_code() {
  expect_match "$1 ($code)" "^($2)$" "$code"
  clean "$1"
}
healthy() {
  local c
  c=$(dash_curl -o /dev/null -w '%{http_code}' "$dash_url/healthz")
  expect_eq "$1: /healthz still answers" 200 "$c"
}

op7=$(dash_token --operator op-7 --label abuse)
admin=$(dash_token --admin --label abuse-admin)
expect_match "an operator token" '^fr_[A-Za-z0-9_-]{43}$' "$op7"
expect_match "an admin token" '^fr_[A-Za-z0-9_-]{43}$' "$admin"
B7=(-H "Authorization: Bearer $op7")
BA=(-H "Authorization: Bearer $admin")
# A token good for a minute (the shortest --ttl): it works now, and is checked again at the
# end, once its minute has passed (section 10).
short=$(dash_token --operator op-7 --label short --ttl 1m)
expect_match "a token with --ttl 1m" '^fr_[A-Za-z0-9_-]{43}$' "$short"
short_until=$(($(date +%s) + 60))

# Control: what is allowed answers 200, so the refusals below are not a broken dashboard.
req -H "Authorization: Bearer $short" "$dash_url/v1/fleet"
expect_eq "the token with --ttl 1m works at first" 200 "$code"
req "${B7[@]}" "$dash_url/v1/fleet"
expect_eq "op-7's bearer token on /v1/fleet" 200 "$code"
expect_match "... lists node-7" '"node-7"' "$(cat "$work/b")"
clean "op-7's fleet"
[[ $(cat "$work/b") != *node-8* && $(cat "$work/b") != *op-8* ]]
expect_eq "... and nothing of op-8 (node-8, op-8)" 0 $?
req "${B7[@]}" "$dash_url/v1/nodes/node-7?month=$M"
expect_eq "op-7 on its node's JSON" 200 "$code"
req "${B7[@]}" "$dash_url/v1/uptime?from=2026-10-01&to=2026-10-31"
expect_eq "op-7 on /v1/uptime" 200 "$code"
[[ $(cat "$work/b") != *node-8* ]]
expect_eq "... without node-8" 0 $?
req "${BA[@]}" "$dash_url/v1/nodes/node-8?month=$M"
expect_eq "the admin on node-8's JSON" 200 "$code"
req "${BA[@]}" "$dash_url/nodes/node-8/records.ndjson?day=2026-10-05"
expect_eq "the admin downloads node-8's records" 200 "$code"
expect_eq "... a day of them, one JWS a line" 1440 "$(grep -c '^eyJ' "$work/b")"

# 1. No token, wrong tokens, malformed Authorization headers.
SRC=127.0.0.2
req "$dash_url/v1/fleet"
expect_code "no token on /v1/fleet" 401
expect_match "... with WWW-Authenticate: Bearer" '^Bearer' "$(header WWW-Authenticate)"
req "$dash_url/nodes/node-7/records.ndjson?day=2026-10-03"
expect_code "no token on the NDJSON download" 401
req "$dash_url/nodes/node-7?month=$M"
expect_code "no session on a node page" 303
expect_match "... sent to the login form" '^/login' "$(header Location)"
for auth in "Bearer fr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "Bearer ${op7}x" "Bearer ${op7:0:20}" \
  "Bearer " "Bearer" "bearer$op7" "Basic $(printf 'op-7:%s' "$op7" | base64 -w0)" "Bearer $op7 $op7" \
  "Bearer $(head -c 9000 /dev/zero | tr '\0' A)"; do
  req -H "Authorization: $auth" "$dash_url/v1/fleet"
  expect_code "Authorization: ${auth:0:40}... is refused" 401
done
req -H "Authorization: Bearer fr_wrong" "$dash_url/"
expect_code "a wrong bearer token on / is no viewer" 303

# 2. Login: the cookie's attributes, the redirect kept local, logout ends the session.
SRC=127.0.0.3
login() {  # login TOKEN [NEXT]: the session cookie's value in $session ("" when none)
  req --data-urlencode "token=$1" --data-urlencode "next=${2:-/}" "$dash_url/login"
  session=$(header Set-Cookie | sed -n 's/^__Host-fleet_session=\([^;]*\).*/\1/p')
  [[ -z $session ]] || sessions+=("$session")
}
sessions=()
login "$op7"
expect_eq "op-7 logs in: 303" 303 "$code"
expect_eq "... to /" "/" "$(header Location)"
cookie=$(header Set-Cookie)
expect_match "... a __Host- session cookie, Secure, HttpOnly, SameSite=Strict, Path=/" \
  '^__Host-fleet_session=[^;]+;' "$cookie"
for attr in Secure HttpOnly SameSite=Strict Path=/; do
  [[ "; ${cookie,,}; " == *"; ${attr,,};"* || "; ${cookie,,}" == *"; ${attr,,}" ]]
  expect_eq "... $attr" 0 $?
done
[[ ${cookie,,} != *domain=* ]]
expect_eq "... with no Domain" 0 $?
[[ $session != *"$op7"* && ${#session} -ge 32 ]]
expect_eq "... its value is a secret of its own, not the token" 0 $?
req -H "Cookie: __Host-fleet_session=$session" "$dash_url/"
expect_eq "the session opens the fleet page" 200 "$code"
for next in "https://evil.example/" "//evil.example/x" "/\\evil.example" "javascript:alert(1)" \
  $'/\r\nSet-Cookie: x=y' $'/\t/evil.example' "http:/evil.example"; do
  login "$op7" "$next"
  expect_eq "next=${next@Q}: redirected to a local path only" "303 /" "$code $(header Location)"
done
expect_eq "no injected header" "" "$(grep -i '^x=y\|Set-Cookie: *x=' "$work/h")"

# 3. The session with another Host: refused (the cookie is bound to the Host it was made for).
login "$op7"
port=${dash_url##*:}
for host in "evil.example:$port" "127.0.0.1" "localhost:$port" "127.0.0.1:$port.evil.example"; do
  req -H "Host: $host" -H "Cookie: __Host-fleet_session=$session" "$dash_url/"
  expect_code "the session cookie with Host: $host" "303|400|421"
  [[ $code != 303 ]] || expect_match "... sent to the login form" '^/login' "$(header Location)"
  req -H "Host: $host" -H "Cookie: __Host-fleet_session=$session" "$dash_url/v1/fleet"
  expect_code "... on /v1/fleet" "401|400|421"
done
req -H "Cookie: __Host-fleet_session=$session" "$dash_url/"
expect_eq "... and with its own Host it still works" 200 "$code"
for value in "garbage" "" "$op7" "${session}x" "$(head -c 4000 /dev/zero | tr '\0' A)"; do
  req -H "Cookie: __Host-fleet_session=$value" "$dash_url/v1/fleet"
  expect_code "a forged session cookie (${value:0:20}...)" 401
done
req -H "Cookie: fleet_session=$session" "$dash_url/v1/fleet"
expect_code "the secret under another cookie name" 401
# Logout closes the session for good.
req --data "" -H "Cookie: __Host-fleet_session=$session" "$dash_url/logout"
expect_eq "logout: 303 to /login" "303 /login" "$code $(header Location)"
expect_match "... clears the cookie" '^__Host-fleet_session=;|Max-Age=0' "$(header Set-Cookie)"
req -H "Cookie: __Host-fleet_session=$session" "$dash_url/"
expect_code "the logged-out session on /" 303
req -H "Cookie: __Host-fleet_session=$session" "$dash_url/v1/fleet"
expect_code "... on /v1/fleet" 401

# 4. Revoked: the token and the sessions opened with it are refused at once.
SRC=127.0.0.4
doomed=$(dash_token --operator op-7 --label doomed)
doomed_id=$(grep -o 't-[0-9a-f]\{8\}' "$work/token.err" | head -n 1)
expect_match "tokens add names the token's id on stderr" '^t-[0-9a-f]{8}$' "$doomed_id"
login "$doomed"
expect_eq "a session with the token to revoke" 303 "$code"
req -H "Authorization: Bearer $doomed" "$dash_url/v1/fleet"
expect_eq "... which works before" 200 "$code"
"$FLEET_RECEIVER" tokens revoke --db "$dash_db" "$doomed_id" >/dev/null 2>&1
expect_eq "tokens revoke $doomed_id" 0 $?
req -H "Authorization: Bearer $doomed" "$dash_url/v1/fleet"
expect_code "the revoked token as bearer" 401
req -H "Cookie: __Host-fleet_session=$session" "$dash_url/"
expect_code "the revoked token's session" 303
login "$doomed"
expect_code "the revoked token at the login form" 401
"$FLEET_RECEIVER" tokens revoke --db "$dash_db" t-00000000 >/dev/null 2>&1
expect_eq "revoking no such token: runtime error" 1 $?
"$FLEET_RECEIVER" tokens list --db "$dash_db" --json >"$work/tokens.json"
expect_eq "tokens list --json" 0 $?
[[ $(cat "$work/tokens.json") != *"$op7"* && $(cat "$work/tokens.json") != *"$doomed"* ]]
expect_eq "... shows no token text (stored as digests)" 0 $?
expect_eq "... no token text in the database either" 0 \
  "$(grep -c -a -F -e "$op7" -e "$admin" -e "$doomed" "$dash_db" "$dash_db-wal" 2>/dev/null | awk -F: '{s+=$NF} END {print s+0}')"

# 5. Huge and malformed query strings.
SRC=127.0.0.5
huge=$(head -c 20000 /dev/zero | tr '\0' A)
req "${B7[@]}" "$dash_url/?x=$huge"
expect_code "a 20 kB query string" "431|414|400"
healthy "after it"
req "${B7[@]}" "$dash_url/nodes/node-7/records?x=$(head -c 100000 /dev/zero | tr '\0' A)"
expect_code "a 100 kB query string" "431|414|400|000"
healthy "after it"
long=$(head -c 10000 /dev/zero | tr '\0' 1)
for q in "month=$long" "month=2026-13" "month=2026-1" "month=%ZZ" "month=2026-10%00" \
  "month=2026-10&month=2026-11" "month=%C0%AE" "month=../../etc"; do
  req "${B7[@]}" "$dash_url/v1/nodes/node-7?$q"
  expect_code "/v1/nodes/node-7?${q:0:30}" 400
  expect_match "... naming the parameter" "month" "$(cat "$work/b")"
  req "${B7[@]}" "$dash_url/nodes/node-7?$q"
  expect_code "/nodes/node-7?${q:0:30}" 400
done
for q in "day=2026-02-30" "day=2026-10-3" "day=../../../etc/passwd" "day=2026-10-03%00" \
  "day=2026-10-03/../.." "day=$long" "hour=2026-10-03T24" "hour=2026-10-03" "day=2026-10-03&day=2026-10-04"; do
  req "${B7[@]}" "$dash_url/nodes/node-7/records?$q"
  expect_code "/nodes/node-7/records?${q:0:30}" 400
  expect_match "... naming the parameter" "day|hour" "$(cat "$work/b")"
done
for q in "day=../../../etc/passwd" "day=2026-10-03%00" "day=%2e%2e%2f%2e%2e" "" "day=2026-10-03T14"; do
  req "${B7[@]}" "$dash_url/nodes/node-7/records.ndjson?$q"
  expect_code "/nodes/node-7/records.ndjson?${q:0:30}" 400
done
for q in "from=2026-10-01&to=2026-09-01" "from=x&to=y" "from=2026-10-01&to=$long" "from=2026-02-30&to=2026-03-01"; do
  req "${B7[@]}" "$dash_url/v1/uptime?$q"
  expect_code "/v1/uptime?${q:0:30}" 400
done
healthy "after the malformed queries"

# 6. Malformed form posts to /login.
SRC=127.0.0.6
req -H "Content-Type: text/plain" --data-binary "token=$op7&next=/" "$dash_url/login"
expect_code "a login form posted as text/plain" "400|401|415"
expect_eq "... sets no cookie" "" "$(header Set-Cookie)"
req -H "Content-Type: application/json" --data-binary "{\"token\":\"$op7\"}" "$dash_url/login"
expect_code "a login posted as JSON" "400|401|415"
expect_eq "... sets no cookie" "" "$(header Set-Cookie)"
printf 'token=%%ZZ%%00\xff\xfe&&==&next=%%%%' >"$work/garbage"
req -H "Content-Type: application/x-www-form-urlencoded" --data-binary "@$work/garbage" "$dash_url/login"
expect_code "a garbage form" "400|401"
head -c 1048576 /dev/zero | tr '\0' A | sed 's/^/token=/' >"$work/mib"
req -H "Content-Type: application/x-www-form-urlencoded" --data-binary "@$work/mib" "$dash_url/login"
expect_code "a 1 MiB form" "400|401|413"
req -H "Content-Type: application/x-www-form-urlencoded" --data-binary "" "$dash_url/login"
expect_code "an empty form" "400|401"
req -H "Content-Type: application/x-www-form-urlencoded" --data-binary "token=$op7&token=$admin" "$dash_url/login"
expect_code "two tokens in one form" "400|401"
expect_eq "... sets no cookie" "" "$(header Set-Cookie)"
req -X PUT --data-binary "token=$op7" "$dash_url/login"
expect_code "PUT /login" 405
req -X GET "$dash_url/logout"
expect_code "GET /logout" "405|303"
healthy "after the malformed forms"

# 7. Path traversal and encoded NULs in the records' URLs: 404 (a path segment is an id).
SRC=127.0.0.7
for path in "/nodes/..%2F..%2Fetc/records.ndjson?day=2026-10-03" "/nodes/%2e%2e/records?day=2026-10-03" \
  "/nodes/%2E%2E/records.ndjson?day=2026-10-03" "/nodes/./records?day=2026-10-03" \
  "/nodes/node-7%00/records.ndjson?day=2026-10-03" "/nodes/node-7%00.ndjson/records?day=2026-10-03" \
  "/nodes/node-7%2F..%2Fnode-8/records.ndjson?day=2026-10-05" "/nodes/..%2Fnode-8/records.ndjson?day=2026-10-05" \
  "/nodes/node-7/../node-8/records.ndjson?day=2026-10-05" "/nodes/node-7/..%2F..%2Fnode-8/records.ndjson?day=2026-10-05" \
  "/nodes/%252e%252e/records.ndjson?day=2026-10-03" "/nodes/%c0%ae%c0%ae/records.ndjson?day=2026-10-03" \
  "/nodes/..%5c..%5cetc/records.ndjson?day=2026-10-03" "/nodes/node-7%0d%0aX:%20y/records.ndjson?day=2026-10-03" \
  "/nodes/$(head -c 65 /dev/zero | tr '\0' a)/records?day=2026-10-03" "/nodes//records.ndjson?day=2026-10-03" \
  "/nodes/node-7/records.ndjson/..%2F..%2F..%2Fetc%2Fpasswd?day=2026-10-03" "/statements/..%2Fop-8/$M" \
  "/statements/op-7/..%2F..%2Fop-8%2F$M" "/statements/%2e%2e/$M.csv"; do
  for who in op-7 admin; do
    if [[ $who == admin ]]; then auth=("${BA[@]}"); else auth=("${B7[@]}"); fi
    req --path-as-is "${auth[@]}" "$dash_url$path"
    expect_code "$who: $path" "404|400"
  done
done
req --path-as-is "${B7[@]}" "$dash_url/nodes/node-7%0d%0aX:%20y/records.ndjson?day=2026-10-03"
expect_eq "an encoded CR LF in the node injects no header" "" "$(header X)"
healthy "after the traversals"

# 8. op-7's bearer token on op-8's node, records and statement: 404, byte for byte (but for
# the name) what an unknown node or operator (node-9, op-9: as long) gets.
SRC=127.0.0.8
same_as_unknown() {  # same_as_unknown PATH NAME UNKNOWN
  local path=$1 name=$2 unknown=$3 seen twin
  req "${B7[@]}" "$dash_url$path"
  # The status, the content type and a digest of the body with the name replaced.
  seen="$code $(header Content-Type) $(sed "s/$name/X/g" "$work/b" | sha256sum | cut -c1-16)"
  clean "op-7 on $path"
  req "${B7[@]}" "$dash_url${path//$name/$unknown}"
  twin="$code $(header Content-Type) $(sed "s/$unknown/X/g" "$work/b" | sha256sum | cut -c1-16)"
  expect_match "op-7 on $path: 404" "^404 " "$seen"
  expect_eq "... identical to ${path//$name/$unknown}" "$twin" "$seen"
}
for path in "/v1/nodes/node-8?month=$M" "/v1/nodes/node-8" "/v1/nodes/node-8/records?day=2026-10-05" \
  "/nodes/node-8?month=$M" "/nodes/node-8/records?day=2026-10-05" "/nodes/node-8/records?hour=2026-10-05T12" \
  "/nodes/node-8/records.ndjson?day=2026-10-05"; do
  same_as_unknown "$path" node-8 node-9
done
for path in "/v1/statements/op-8/$M" "/statements/op-8/$M" "/statements/op-8/$M.csv" "/statements/op-8/$M.json"; do
  same_as_unknown "$path" op-8 op-9
done
# The same through a session cookie.
SRC=127.0.0.3 login "$op7"
req -H "Cookie: __Host-fleet_session=$session" "$dash_url/nodes/node-8/records.ndjson?day=2026-10-05"
expect_code "op-7's session on node-8's NDJSON" 404
req -H "Cookie: __Host-fleet_session=$session" "$dash_url/statements/op-8/$M.csv"
expect_code "op-7's session on op-8's statement CSV" 404
# Methods other than GET on the pages: 405.
req -X POST "${B7[@]}" "$dash_url/nodes/node-7?month=$M"
expect_code "POST on a node page" 405
req -X DELETE "${B7[@]}" "$dash_url/v1/fleet"
expect_code "DELETE /v1/fleet" 405

# 9. More than 10 failed logins a minute from one address: 429, for that address only.
SRC=127.0.0.9
codes=""
for i in $(seq 1 12); do
  req --data-urlencode "token=fr_guess$i" --data-urlencode "next=/" "$dash_url/login"
  codes+="$code "
done
expect_match "10 failed logins answered 401, then 429" "^(401 ){10}(401|429) 429 $" "$codes"
req --data-urlencode "token=$op7" --data-urlencode "next=/" "$dash_url/login"
expect_code "... even the right token from that address, for now" 429
SRC=127.0.0.10 login "$op7"
expect_eq "... while another address logs in" 303 "$code"

# 10. Expired: the --ttl 1m token is refused once its minute is up (polled for with a
# deadline: an expiry is a clock), and stays refused; it opens no session either.
SRC=127.0.0.11
expired() { req -H "Authorization: Bearer $short" "$dash_url/v1/fleet"; [[ $code == 401 ]]; }
left=$((short_until - $(date +%s)))
((left > 0)) || left=0
wait_for $((left + 30)) expired
expect_eq "the --ttl 1m token is refused (401) once expired" 0 $?
(($(date +%s) >= short_until - 2))
expect_eq "... not before its minute was up" 0 $?
stays=""
for i in 1 2 3 4 5; do
  req -H "Authorization: Bearer $short" "$dash_url/v1/fleet"
  stays+="$code "
done
expect_eq "... and stays refused" "401 401 401 401 401 " "$stays"
login "$short"
expect_code "the expired token at the login form" 401
expect_eq "... sets no cookie" "" "$(header Set-Cookie)"

# The receiver lived through it, and says nothing it should not.
healthy "at the end"
expect_eq "the receiver is still running" 0 "$(dash_receiver_alive; echo $?)"
leaked=0
for secret in "$op7" "$admin" "$short" "$doomed" "${sessions[@]}"; do
  [[ -n $secret ]] && grep -q -F -- "$secret" "$work/receiver.log" && leaked=$((leaked + 1))
done
expect_eq "no token or session secret (of ${#sessions[@]} sessions) in the receiver's log" 0 "$leaked"
if ((failures > 0)); then
  echo "--- receiver log (tail)"
  tail -n 40 "$work/receiver.log"
fi
finish
