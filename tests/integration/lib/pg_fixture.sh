#!/bin/bash
# pg_fixture.sh start|stop DIR: a private PostgreSQL for the tests. start: a fresh cluster in
# DIR/data (initdb; as user postgres when run as root, which postgres refuses to be), listening
# only on a unix socket in DIR/run (port FLEET_PG_TEST_PORT, default 54329, names the socket),
# trust authentication, fsync off (on with FLEET_PG_DURABLE=1, for benchmarks); database
# fleet_test; its URI printed and written to DIR/url.
# A server left by a killed run is stopped and its data dir wiped first. stop: stops it and
# removes the data (the log stays in DIR/log). Exit 77 (skipped) when the server package is
# missing or cannot run here.
set -uo pipefail
usage() { echo "usage: pg_fixture.sh start|stop DIR" >&2; exit 2; }
(($# == 2)) || usage
action=$1
dir=$(realpath -m "$2")
port=${FLEET_PG_TEST_PORT:-54329}
bin=${FLEET_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
data=$dir/data
run=$dir/run
url="postgresql:///fleet_test?host=$run&port=$port&user=postgres"

as_owner() {  # postgres refuses root: run its programs as user postgres then
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_server() {  # stops whatever server runs on DIR/data, however it was left
  [[ -f $data/postmaster.pid ]] || return 0
  as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 && return 0
  as_owner "$bin/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1 && return 0
  local pid
  pid=$(head -1 "$data/postmaster.pid" 2>/dev/null)
  if [[ $pid =~ ^[0-9]+$ ]] && [[ $(ps -o comm= -p "$pid" 2>/dev/null) == postgres* ]]; then
    kill -9 "$pid" 2>/dev/null
    sleep 0.5
  fi
}

case $action in
  start)
    if [[ -z $bin || ! -x $bin/initdb || ! -x $bin/pg_ctl ]]; then
      echo "SKIPPED: no PostgreSQL server programs (Debian package postgresql) in /usr/lib/postgresql"
      exit 77
    fi
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
      echo "SKIPPED: running as root and there is no user postgres to run the server as"
      exit 77
    fi
    if ((${#run} + 20 > 107)); then
      echo "SKIPPED: $run is too long for a unix socket path"
      exit 77
    fi
    stop_server
    rm -rf "$data" "$run" "$dir/url"
    mkdir -p "$run" || exit 1
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: "$dir" "$run"
      if ! runuser -u postgres -- test -w "$dir"; then
        echo "SKIPPED: user postgres cannot reach $dir (a parent directory is closed to it)"
        exit 77
      fi
    fi
    if ! as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C -N \
      >"$dir/initdb.log" 2>&1; then
      echo "initdb failed:"; cat "$dir/initdb.log"; exit 1
    fi
    opts="-c listen_addresses='' -k $run -p $port -c max_connections=100"
    if [[ ${FLEET_PG_DURABLE:-0} != 1 ]]; then
      opts+=" -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    fi
    if ! as_owner "$bin/pg_ctl" -D "$data" -l "$dir/log" -w -t 60 -o "$opts" start >/dev/null; then
      echo "the test PostgreSQL did not start:"; tail -20 "$dir/log"; exit 1
    fi
    if ! as_owner "$bin/psql" -X -q -h "$run" -p "$port" -U postgres -d postgres \
      -c 'CREATE DATABASE fleet_test' >/dev/null; then
      echo "could not create the test database"; stop_server; exit 1
    fi
    echo "$url" >"$dir/url"
    echo "$url"
    ;;
  stop)
    stop_server
    rm -rf "$data" "$run" "$dir/url"
    echo "stopped the test PostgreSQL in $dir"
    ;;
  *) usage ;;
esac
