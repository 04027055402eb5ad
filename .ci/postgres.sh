#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1:${PGPORT:-55432} for the tests
# and print the SQLAlchemy URL to use. Idempotent: reuses a running cluster.
set -euo pipefail
port=${PGPORT:-55432}
data=${PGDATA_DIR:-/tmp/syndicate-pg}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if ! as_pg "$bindir/pg_ctl -D $data status" >/dev/null 2>&1; then
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres: "$data"
    as_pg "$bindir/initdb -D $data -U postgres -A trust --no-sync" >/dev/null
  fi
  as_pg "$bindir/pg_ctl -D $data -l $data/log -w -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c autovacuum=off -c max_connections=200' start" >/dev/null
fi
psql="$bindir/psql -h 127.0.0.1 -p $port -U postgres -v ON_ERROR_STOP=1 -q"
$psql -tc "SELECT 1 FROM pg_roles WHERE rolname='syndicate'" | grep -q 1 \
  || $psql -c "CREATE ROLE syndicate LOGIN PASSWORD 'syndicate' CREATEDB"
# Tests drop their databases WITH (FORCE): let the role end any session in them.
$psql -c "SET client_min_messages = warning; GRANT pg_signal_backend TO syndicate" >/dev/null
$psql -tc "SELECT 1 FROM pg_database WHERE datname='syndicate_test'" | grep -q 1 \
  || $psql -c "CREATE DATABASE syndicate_test OWNER syndicate"
echo "postgresql+psycopg://syndicate:syndicate@127.0.0.1:$port/syndicate_test"
