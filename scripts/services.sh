#!/usr/bin/env bash
# Servers the tests talk to on 127.0.0.1: PostgreSQL (database `test`). Started when down;
# a failure here stops the test run instead of letting tests skip.
set -euo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  su postgres -c "psql -q -c 'CREATE DATABASE test'" || true
  su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD NULL\"" >/dev/null || true
fi
psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null || {
  echo "cannot connect to database test on 127.0.0.1:5432 as postgres" >&2; exit 1; }
