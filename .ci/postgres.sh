#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1:${PGPORT:-55432} for the tests
# and print the SQLAlchemy URL to use. Idempotent: reuses a server already answering there.
set -euo pipefail
port=${PGPORT:-55432}
# In memory where /dev/shm is a tmpfs: nothing in it outlives the run (fsync is off as
# it is), and the tests create and drop a database each, hundreds of files a time. On
# the 2-core VM's ext4 disk a CREATE DATABASE took 0.1-0.3 s, slower the longer the
# cluster had been used, and migrating a new store 0.3 s; in memory 0.01 s and 0.1 s.
# The WAL kept between checkpoints is bounded, as it takes memory there.
# A small /dev/shm (a container's 64 MB default) would fill: then the disk it is.
shm_free_mb=$(df -Pm /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')
if [ -z "${PGDATA_DIR:-}" ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] \
  && [ "${shm_free_mb:-0}" -ge 2048 ]; then
  data=/dev/shm/syndicate-pg
else
  data=${PGDATA_DIR:-/tmp/syndicate-pg}
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres: "$data"
    as_pg "$bindir/initdb -D $data -U postgres -A trust --no-sync" >/dev/null
  fi
  as_pg "$bindir/pg_ctl -D $data -l $data/log -w -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c autovacuum=off -c max_connections=200 -c max_wal_size=256MB' start" >/dev/null
fi
psql="$bindir/psql -h 127.0.0.1 -p $port -U postgres -v ON_ERROR_STOP=1 -q"
$psql -tc "SELECT 1 FROM pg_roles WHERE rolname='syndicate'" | grep -q 1 \
  || $psql -c "CREATE ROLE syndicate LOGIN PASSWORD 'syndicate' CREATEDB"
# Tests drop their databases WITH (FORCE): let the role end any session in them.
$psql -c "SET client_min_messages = warning; GRANT pg_signal_backend TO syndicate" >/dev/null
$psql -tc "SELECT 1 FROM pg_database WHERE datname='syndicate_test'" | grep -q 1 \
  || $psql -c "CREATE DATABASE syndicate_test OWNER syndicate"
echo "postgresql+psycopg://syndicate:syndicate@127.0.0.1:$port/syndicate_test"
