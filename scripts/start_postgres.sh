#!/usr/bin/env bash
# Starts (or reuses) a PostgreSQL cluster on 127.0.0.1 for the test suite and prints a
# SQLAlchemy URL for a fresh, empty database. Needs root (as on CI). Exits 1 if it cannot.
set -euo pipefail
command -v pg_ctlcluster >/dev/null 2>&1 || { echo "pg_ctlcluster not found" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "start_postgres: needs root" >&2; exit 1; }
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
cluster=annotate_test
port=${ANNOTATE_TEST_PG_PORT:-54329}
if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$cluster"; then
  pg_createcluster "$version" "$cluster" -p "$port" >/dev/null
fi
pg_ctlcluster "$version" "$cluster" start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p "$port" -q && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p "$port" -q || { echo "PostgreSQL did not start" >&2; exit 1; }
# The password is made once per cluster and kept beside it (readable by root only), so
# that running this script again does not break processes already using the old URL.
pwfile="/var/lib/postgresql/$version/$cluster.annotate_test.password"
if [ ! -s "$pwfile" ]; then
  (umask 077; python3 -c 'import secrets; print(secrets.token_hex(16))' > "$pwfile")
fi
password=$(cat "$pwfile")
su postgres -c "psql -q -p $port -v ON_ERROR_STOP=1" >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'annotate_test') THEN
    CREATE ROLE annotate_test LOGIN CREATEDB PASSWORD '$password';
    GRANT pg_signal_backend TO annotate_test;
  ELSE
    ALTER ROLE annotate_test PASSWORD '$password';
    GRANT pg_signal_backend TO annotate_test;
  END IF;
END \$\$;
SQL
if ! su postgres -c "psql -q -p $port -tAc \"SELECT 1 FROM pg_database WHERE datname='annotate_test'\"" | grep -q 1; then
  su postgres -c "psql -q -p $port -c 'CREATE DATABASE annotate_test OWNER annotate_test'" >/dev/null
fi
echo "postgresql+psycopg://annotate_test:${password}@127.0.0.1:${port}/annotate_test"
