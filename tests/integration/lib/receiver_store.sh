# The receiver's database for a test: SQLite by default; with FLEET_RECEIVER_STORE=postgres
# a fresh schema of the test PostgreSQL (FLEET_TEST_PG_URL; ctest's fixture pg), so the same
# script proves the same behaviour on both stores. Source it; call receiver_store_up DIR,
# then use $receiver_db as --db and receiver_sql for queries in SQL both understand;
# receiver_store_down in the trap. receiver_store_up skips the test (exit 77) when PostgreSQL
# is asked for but absent.
receiver_store_up() {
  if [[ ${FLEET_RECEIVER_STORE:-sqlite} == postgres ]]; then
    if [[ -z ${FLEET_TEST_PG_URL:-} ]] || ! psql -X -q "$FLEET_TEST_PG_URL" -c 'SELECT 1' >/dev/null 2>&1; then
      echo "SKIPPED: FLEET_RECEIVER_STORE=postgres but no test PostgreSQL at FLEET_TEST_PG_URL (ctest fixture pg)"
      exit 77
    fi
    receiver_schema=t_${RANDOM}_$$
    psql -X -q "$FLEET_TEST_PG_URL" -c "CREATE SCHEMA $receiver_schema" >/dev/null || return 1
    receiver_db="$FLEET_TEST_PG_URL&options=-csearch_path%3D$receiver_schema"
    receiver_sql() { psql -X -q -At "$receiver_db" -c "$1"; }
  else
    receiver_db=$1/receiver.db
    receiver_sql() { sqlite3 -readonly "$receiver_db" "$1"; }
  fi
}
receiver_store_down() {
  [[ -n ${receiver_schema:-} ]] &&
    psql -X -q "$FLEET_TEST_PG_URL" -c "DROP SCHEMA $receiver_schema CASCADE" >/dev/null 2>&1
  receiver_schema=
}

