#!/bin/bash
# fleet-receiver's Debian package on a real systemd (lib/systemd_box.sh), as the foundation
# would use it: `build-deb.sh --receiver` builds it from FLEET_BUILD_DIR, lintian finds
# nothing, `apt-get install ./fleet-receiver_*.deb` creates the fleet-receiver user and
# /var/lib/fleet-receiver and starts the hardened unit on the shipped receiver.yaml (plain
# HTTP on loopback); then: TLS configured in receiver.yaml (key readable by the service's
# group only), a node's records pushed over HTTPS with a pinned key and stored; kill -9
# restarts it with nothing lost; `systemctl reload` serves a renewed certificate without a
# restart, and an open keep-alive connection survives it; systemd-analyze security reaches
# the figure systemd/README.md claims (at most 2.0); upgrade keeps the edited conffile;
# purge keeps the database (reinstalled, it serves the same records) unless asked with
# FLEET_RECEIVER_PURGE_DATABASE=yes. Skips (77) without root or systemd-nspawn.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/assert.sh"
source "$here/lib/systemd_box.sh"
: "${FLEET_AGENT:?FLEET_AGENT must name the built binary}"
: "${FLEET_SPOOL_FILL:?FLEET_SPOOL_FILL must name the built tool}"
build_dir=${FLEET_BUILD_DIR:-$(dirname "$FLEET_AGENT")}
source_dir=${FLEET_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
sdbox_require
for tool in dpkg-deb dpkg-shlibdeps lintian jq sqlite3 openssl python3 curl; do
  command -v "$tool" >/dev/null ||
    { echo "FAIL: $tool is missing (bash packaging/install-deps.sh --test)"; exit 1; }
done
started=$SECONDS

work=$(mktemp -d /var/tmp/fleet-receiver-pkg.XXXXXX)  # /var/tmp: the guest sees it too
cleanup() { sdbox_teardown; rm -rf "$work"; }
trap cleanup EXIT
version=$(sed -n 's/^project(fleet-agent VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
deb1=$(bash "$source_dir/packaging/build-deb.sh" --receiver "$build_dir" "$work/v1" | tail -n 1)
deb2=$(VERSION="$version+next" bash "$source_dir/packaging/build-deb.sh" --receiver "$build_dir" \
  "$work/v2" | tail -n 1)
[[ -f "$deb1" && -f "$deb2" ]] || { echo "FAIL: build-deb.sh --receiver did not build both"; exit 1; }
expect_eq "package file name" "fleet-receiver_${version}-1_$(dpkg --print-architecture).deb" \
  "$(basename "$deb1")"
expect_match "Depends from dpkg-shlibdeps (libpq, OpenSSL) and adduser" \
  "libpq5.*libssl3.*adduser" "$(dpkg-deb -f "$deb1" Depends)"
contents=$(dpkg-deb -c "$deb1")
for f in usr/bin/fleet-receiver lib/systemd/system/fleet-receiver.service \
  etc/fleet-receiver/receiver.yaml usr/share/man/man1/fleet-receiver.1.gz \
  usr/share/doc/fleet-receiver/copyright usr/share/doc/fleet-receiver/changelog.Debian.gz; do
  expect_match "package ships /$f" " \./$f\$" "$(grep -F "./$f" <<<"$contents")"
done
expect_eq "conffiles" /etc/fleet-receiver/receiver.yaml "$(dpkg-deb -I "$deb1" conffiles)"
lintian_out=$(lintian --fail-on error,warning "$deb1" 2>&1)
expect_eq "lintian: no error or warning (exit)" 0 $?
expect_eq "lintian: nothing reported" "" "$(grep -E '^[EW]: ' <<<"$lintian_out")"

# ---- a test CA, the server's key and certificate, and a node with 100 signed records ----
pki=$work/pki
mkdir -p "$pki" "$work/node"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca \
  -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$pki/server.key" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/ext"
issue() {  # issue SERIAL: a certificate for the same key, from the test CA
  openssl req -new -key "$pki/server.key" -subj /CN=127.0.0.1 -out "$pki/server.csr" 2>/dev/null
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -set_serial "$1" -days 2 -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null
}
issue 1001
chmod 0644 "$pki"/*
pin="sha256//$(openssl pkey -in "$pki/server.key" -pubout -outform der |
  openssl dgst -sha256 -binary | base64)"
"$FLEET_AGENT" keygen --state-dir "$work/node" >/dev/null &&
  "$FLEET_AGENT" pubkey --jwk --state-dir "$work/node" >"$work/node.jwk" &&
  "$FLEET_SPOOL_FILL" "$work/node" pkg-node 100 >/dev/null &&
  "$FLEET_AGENT" records --state-dir "$work/node" >"$work/records.ndjson" ||
  { echo "FAIL: cannot make the node's records"; exit 1; }
expect_eq "the node's records" 100 "$(grep -c . "$work/records.ndjson")"
head -n 50 "$work/records.ndjson" >"$work/batch1.ndjson"
tail -n 50 "$work/records.ndjson" >"$work/batch2.ndjson"
chmod -R a+rX "$work"

# ---- install -------------------------------------------------------------------------
sdbox_boot || { echo "FAIL: could not boot systemd in a container"; exit 1; }
trap cleanup EXIT
sdbox_run rm -f /usr/sbin/policy-rc.d
install_out=$(sdbox_run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends "$deb1" 2>&1)
expect_eq "apt-get install ./fleet-receiver_*.deb" 0 $?
expect_eq "installed version" "${version}-1" \
  "$(sdbox_run dpkg-query -W -f '${Version}' fleet-receiver)"
wait_for 10 sdbox_run curl -sf http://127.0.0.1:8080/healthz -o /dev/null
expect_eq "serving on the shipped receiver.yaml (127.0.0.1:8080, plain)" 0 $?
if [[ "$(sdbox_run systemctl is-active fleet-receiver)" != active ]]; then
  echo "$install_out"
  sdbox_run systemctl status --no-pager fleet-receiver
  sdbox_run journalctl -u fleet-receiver --no-pager | tail -n 30
  fail "the service is not active after install"
  finish
fi
expect_eq "dpkg --verify" "" "$(sdbox_run dpkg --verify fleet-receiver)"
expect_eq "service enabled" enabled "$(sdbox_run systemctl is-enabled fleet-receiver)"
expect_match "its own system user" "^fleet-receiver:x:[0-9]+:[0-9]+:.*:/var/lib/fleet-receiver:" \
  "$(sdbox_run getent passwd fleet-receiver)"
expect_eq "the service runs as fleet-receiver" fleet-receiver \
  "$(sdbox_run stat -c %U "/proc/$(sdbox_run systemctl show -p MainPID --value fleet-receiver)")"
expect_eq "state dir owner and mode" "fleet-receiver fleet-receiver 750" \
  "$(sdbox_run stat -c '%U %G %a' /var/lib/fleet-receiver)"
expect_eq "the default database, the service's" "fleet-receiver 600" \
  "$(sdbox_run stat -c '%U %a' /var/lib/fleet-receiver/receiver.db)"
expect_eq "shipped config as packaged" "$(md5sum <"$source_dir/packaging/receiver.yaml")" \
  "$(sdbox_run sh -c 'md5sum </etc/fleet-receiver/receiver.yaml')"
expect_match "man page installed" "fleet-receiver" \
  "$(sdbox_run sh -c 'zcat /usr/share/man/man1/fleet-receiver.1.gz | head -n 1')"

# ---- TLS from receiver.yaml, a node registered, its records pushed and stored ----------
db=/var/lib/fleet-receiver/receiver.db
sdbox_run install -d -m 0755 /etc/fleet-receiver/tls
sdbox_run install -m 0644 "$pki/server.pem" /etc/fleet-receiver/tls/fullchain.pem
sdbox_run install -m 0640 -g fleet-receiver "$pki/server.key" /etc/fleet-receiver/tls/privkey.pem
sdbox_write /etc/fleet-receiver/receiver.yaml <<'YAML'
# The foundation's edits (receiver_package_test).
listen: 127.0.0.1:8443
tls:
  cert: /etc/fleet-receiver/tls/fullchain.pem
  key: /etc/fleet-receiver/tls/privkey.pem
YAML
expect_match "config check" "valid" \
  "$(sdbox_run fleet-receiver config check /etc/fleet-receiver/receiver.yaml)"
sdbox_run runuser -u fleet-receiver -- fleet-receiver nodes add --db "$db" --node pkg-node \
  --operator op-1 --jwk "$work/node.jwk" >/dev/null
expect_eq "nodes add as the fleet-receiver user" 0 $?
sdbox_run systemctl restart fleet-receiver
https_get() { sdbox_run curl -sf --cacert "$pki/ca.pem" --pinnedpubkey "$pin" "https://127.0.0.1:8443$1"; }
wait_for 10 https_get /healthz >/dev/null
expect_eq "HTTPS with the CA and the pinned key" 0 $?
expect_eq "plain HTTP on the TLS port: 400" 400 \
  "$(sdbox_run curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8443/healthz)"
push() {  # push FILE: POSTs the records over HTTPS (pinned); prints the reply's ack_seq
  sdbox_run curl -sf --cacert "$pki/ca.pem" --pinnedpubkey "$pin" \
    -H 'Content-Type: application/x-ndjson' --data-binary "@$1" \
    https://127.0.0.1:8443/v1/records | jq -r .ack_seq
}
expect_eq "first 50 records pushed: acknowledged" 50 "$(push "$work/batch1.ndjson")"
stored() { sdbox_run sqlite3 -readonly "$db" "select count(*) from records where node='pkg-node'"; }
expect_eq "stored in /var/lib/fleet-receiver/receiver.db" 50 "$(stored)"

# ---- kill -9: restarted by systemd, nothing lost -------------------------------------
main_pid() { sdbox_run systemctl show -p MainPID --value fleet-receiver; }
pid=$(main_pid)
restarts=$(sdbox_run systemctl show -p NRestarts --value fleet-receiver)
sdbox_run kill -9 "$pid"
restarted() { [[ "$(main_pid)" != "$pid" && "$(main_pid)" != 0 ]] && https_get /healthz >/dev/null; }
wait_for 20 restarted
expect_eq "kill -9: restarted and serving" 0 $?
expect_eq "kill -9: NRestarts" "$((restarts + 1))" \
  "$(sdbox_run systemctl show -p NRestarts --value fleet-receiver)"
expect_eq "kill -9: the 50 stored records are still there" 50 "$(stored)"
expect_eq "the next 50 records pushed after the restart" 100 "$(push "$work/batch2.ndjson")"
expect_eq "all 100 stored once" 100 "$(stored)"

# ---- systemctl reload: a renewed certificate for new connections, no restart -----------
served_serial() {
  sdbox_run sh -c 'openssl s_client -connect 127.0.0.1:8443 </dev/null 2>/dev/null |
    openssl x509 -noout -serial'
}
expect_eq "the first certificate is served" serial=03E9 "$(served_serial)"
# A keep-alive connection opened before the reload, used again once the service has logged
# the reload: the same socket answers (http.client would raise if the server had closed it).
sdbox_write /var/tmp/keepalive.py <<'PY'
import http.client, ssl, sys, time, subprocess
def reloads():  # how many reloads the service has logged
    log = subprocess.run(["journalctl", "-u", "fleet-receiver", "--no-pager", "-o", "cat"],
                         capture_output=True, text=True).stdout
    return log.count("SIGHUP: TLS reloaded")
ctx = ssl.create_default_context(cafile=sys.argv[1])
conn = http.client.HTTPSConnection("127.0.0.1", 8443, context=ctx)
conn.request("GET", "/healthz"); first = conn.getresponse(); first.read()
sock = conn.sock
before = reloads()
subprocess.run(["systemctl", "reload", "fleet-receiver"], check=True)
deadline = time.time() + 10  # SIGHUP is handled asynchronously: wait until it was
while reloads() == before and time.time() < deadline:
    time.sleep(0.1)
if reloads() == before:
    sys.exit("the reload was not logged within 10 s")
conn.request("GET", "/healthz"); second = conn.getresponse(); second.read()
print(first.status, second.status, "same-connection" if conn.sock is sock else "reconnected")
PY
pid=$(main_pid)
issue 1002
chmod 0644 "$pki/server.pem"
sdbox_run install -m 0644 "$pki/server.pem" /etc/fleet-receiver/tls/fullchain.pem
keepalive=$(sdbox_run python3 /var/tmp/keepalive.py "$pki/ca.pem" 2>&1)
expect_eq "an open keep-alive connection survives the reload" "200 200 same-connection" "$keepalive"
expect_eq "reload: the renewed certificate is served" serial=03EA "$(served_serial)"
expect_eq "reload: same process (no restart)" "$pid" "$(main_pid)"
# A bad pair: the old one stays, one error line.
sdbox_run sh -c 'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=x -keyout /var/tmp/x.key -out /etc/fleet-receiver/tls/fullchain.pem 2>/dev/null'
sdbox_run systemctl reload fleet-receiver
wait_for 10 sdbox_run sh -c 'journalctl -u fleet-receiver --no-pager -o cat | grep -q "TLS not reloaded"'
expect_eq "bad pair: one clear error in the journal" 0 $?
expect_eq "bad pair: the renewed certificate is still served" serial=03EA "$(served_serial)"
expect_eq "bad pair: still active, same process" "active $pid" \
  "$(sdbox_run systemctl is-active fleet-receiver) $(main_pid)"
sdbox_run install -m 0644 "$pki/server.pem" /etc/fleet-receiver/tls/fullchain.pem

# ---- systemd-analyze security --------------------------------------------------------
claimed=$(sed -n 's/.*Exposure of fleet-receiver.service: \*\*\([0-9.]*\)\*\*.*/\1/p' \
  "$source_dir/systemd/README.md")
measured=$(sdbox_run systemd-analyze security --no-pager fleet-receiver.service 2>/dev/null |
  sed -n 's/.*Overall exposure level for fleet-receiver.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security fleet-receiver.service: $measured"
expect_match "systemd/README.md claims a figure" '^[0-9]+\.[0-9]$' "$claimed"
expect_eq "systemd-analyze security reaches the claimed figure" "$claimed" "$measured"
expect_eq "the figure is at most 2.0" 1 "$(awk -v m="$measured" 'BEGIN { print (m != "" && m <= 2.0) }')"

# ---- upgrade keeps the edited conffile and the database; restarts --------------------
config_before=$(sdbox_run md5sum /etc/fleet-receiver/receiver.yaml)
sdbox_run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "$deb2" >"$work/upgrade.log" 2>&1
expect_eq "upgrade with apt-get install" 0 $?
expect_eq "upgrade keeps the edited receiver.yaml" "$config_before" \
  "$(sdbox_run md5sum /etc/fleet-receiver/receiver.yaml)"
wait_for 10 https_get /healthz >/dev/null
expect_eq "upgrade: serving again over TLS" 0 $?
expect_eq "upgrade: the records are still there" 100 "$(stored)"

# ---- remove stops; purge keeps the database unless asked -----------------------------
sdbox_run dpkg -r fleet-receiver >"$work/remove.log" 2>&1
expect_eq "dpkg -r" 0 $?
expect_eq "remove stops the service" inactive "$(sdbox_run systemctl is-active fleet-receiver)"
purge_out=$(sdbox_run dpkg -P fleet-receiver 2>&1)
expect_eq "dpkg -P" 0 $?
expect_eq "purge removes the package's receiver.yaml" gone \
  "$(sdbox_run sh -c 'test -e /etc/fleet-receiver/receiver.yaml || echo gone')"
expect_eq "purge keeps the database" 100 "$(stored)"
expect_match "purge says the database is kept, and how to delete it" \
  "KEPT.*purge-database" "$purge_out"
sdbox_run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "$deb1" >"$work/reinstall.log" 2>&1
expect_eq "reinstall after purge" 0 $?
wait_for 10 sdbox_run curl -sf http://127.0.0.1:8080/healthz -o /dev/null
expect_eq "reinstalled: serving on the kept database" 0 $?
expect_eq "reinstalled: the node's records are the kept ones" 100 "$(stored)"
sdbox_run dpkg -r fleet-receiver >/dev/null 2>&1
sdbox_run env FLEET_RECEIVER_PURGE_DATABASE=yes dpkg -P fleet-receiver >"$work/purge2.log" 2>&1
expect_eq "purge with FLEET_RECEIVER_PURGE_DATABASE=yes" 0 $?
expect_eq "asked: the database is deleted" gone \
  "$(sdbox_run sh -c 'test -e /var/lib/fleet-receiver || echo gone')"

echo "receiver package test took $((SECONDS - started)) s"
finish
