#!/usr/bin/env bash
# Runs a command with the servers the tests need, on loopback ports picked at start,
# and stops them afterwards, also when the command fails or is interrupted.
#   S3 API server (@20minutes/s3rver, verifies SigV4): BASIN_TEST_S3_ENDPOINT,
#   BASIN_TEST_S3_BUCKET, BASIN_TEST_S3_ACCESS_KEY, BASIN_TEST_S3_SECRET_KEY.
#   PostgreSQL 15 (Debian postgresql-15), a throwaway cluster in a temp dir, password
#   auth for user basin with a random password: BASIN_TEST_POSTGRES_URL
#   (postgresql://basin:PASSWORD@127.0.0.1:PORT/basin_test).
#   MariaDB 10.11 (Debian mariadb-server), a throwaway data folder in a temp dir, user basin
#   with a random password and database basin_test: BASIN_TEST_MARIADB_HOST, _PORT, _USER,
#   _PASSWORD, _DATABASE.
# Usage: scripts/with-test-servers.sh COMMAND [ARG...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/basin-test-servers.XXXXXX")
pids=()
postgres_pid=
mariadb_pid=
cleanup() {
  # SIGQUIT is PostgreSQL's immediate shutdown: the cluster is thrown away anyway.
  if [ -n "$postgres_pid" ]; then kill -QUIT "$postgres_pid" 2>/dev/null || true; fi
  if [ -n "$mariadb_pid" ]; then kill -KILL "$mariadb_pid" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$postgres_pid" ]; then wait "$postgres_pid" 2>/dev/null || true; fi
  if [ -n "$mariadb_pid" ]; then wait "$mariadb_pid" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/s3"
NODE_OPTIONS=--openssl-legacy-provider node "$root/tests/e2e/s3rver.mjs" "$work/s3" \
  basin-test basin-bench > "$work/s3rver.out" 2> "$work/s3rver.err" &
pids+=($!)
for _ in $(seq 1 100); do
  [ -s "$work/s3rver.out" ] && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "with-test-servers: the S3 API server did not start:" >&2
    cat "$work/s3rver.err" >&2
    exit 1
  fi
  sleep 0.1
done
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/s3rver.out")
[ -n "$port" ] || { echo "with-test-servers: no port from the S3 API server" >&2; exit 1; }
export BASIN_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
export BASIN_TEST_S3_BUCKET=basin-test
export BASIN_TEST_S3_ACCESS_KEY=S3RVER
export BASIN_TEST_S3_SECRET_KEY=S3RVER
echo "with-test-servers: S3 API server at $BASIN_TEST_S3_ENDPOINT" >&2

# --- PostgreSQL ------------------------------------------------------------------
pg_bin=/usr/lib/postgresql/15/bin
[ -x "$pg_bin/initdb" ] || pg_bin=$(dirname "$(command -v initdb || echo /missing/initdb)")
if [ ! -x "$pg_bin/initdb" ]; then
  echo "with-test-servers: PostgreSQL 15 is missing: run scripts/bootstrap.sh" >&2
  exit 1
fi
# PostgreSQL refuses to run as root; as root, the server runs as the postgres user
# (created by the Debian package), which must be able to reach its data directory.
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  as_server=(setpriv --reuid=postgres --regid=postgres --clear-groups --)
  chmod 711 "$work"
fi
mkdir -p "$work/pg"
postgres_password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '%s\n' "$postgres_password" > "$work/pg/password"
[ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$work/pg"
# The ICU "en" collation sorts like a typical production server ("alice" < "Bob"),
# so a test that relies on SQLite's byte order fails here too.
"${as_server[@]}" "$pg_bin/initdb" --pgdata="$work/pg/data" --username=basin \
  --pwfile="$work/pg/password" --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
  --locale-provider=icu --icu-locale=en --no-sync > "$work/pg/initdb.log" 2>&1 || {
  echo "with-test-servers: initdb failed:" >&2
  cat "$work/pg/initdb.log" >&2
  exit 1
}
free_port() {
  node -e 'const s = require("net").createServer();
           s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
# The OS picks a free port; another process may take it before PostgreSQL binds it,
# so a server that exits at once is tried again on another port.
for attempt in 1 2 3 4 5; do
  postgres_port=$(free_port)
  "${as_server[@]}" "$pg_bin/postgres" -D "$work/pg/data" -p "$postgres_port" \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=300 \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    > "$work/pg/postgres.log" 2>&1 &
  postgres_pid=$!
  ready=0
  for _ in $(seq 1 100); do
    if ! kill -0 "$postgres_pid" 2>/dev/null; then break; fi
    if "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$postgres_port" -t 1; then ready=1; break; fi
    sleep 0.1
  done
  [ $ready -eq 1 ] && break
  kill -QUIT "$postgres_pid" 2>/dev/null || true
  wait "$postgres_pid" 2>/dev/null || true
  postgres_pid=
  if [ $attempt -eq 5 ] || ! grep -q "could not bind" "$work/pg/postgres.log"; then
    echo "with-test-servers: PostgreSQL did not start:" >&2
    cat "$work/pg/postgres.log" >&2
    exit 1
  fi
done
PGPASSWORD=$postgres_password "$pg_bin/createdb" -h 127.0.0.1 -p "$postgres_port" -U basin \
  basin_test
export BASIN_TEST_POSTGRES_URL="postgresql://basin:$postgres_password@127.0.0.1:$postgres_port/basin_test"
echo "with-test-servers: PostgreSQL at 127.0.0.1:$postgres_port (database basin_test)" >&2

# --- MariaDB ---------------------------------------------------------------------
if ! command -v mariadbd > /dev/null && [ ! -x /usr/sbin/mariadbd ]; then
  echo "with-test-servers: MariaDB is missing: run scripts/bootstrap.sh --test" >&2
  exit 1
fi
mkdir -p "$work/maria"
as_mariadb=()
[ "$(id -u)" -ne 0 ] || { as_mariadb=(--user=mysql); chown -R mysql:mysql "$work/maria"; }
mariadb-install-db --no-defaults "${as_mariadb[@]}" --datadir="$work/maria/data" \
  --auth-root-authentication-method=socket --skip-test-db > "$work/maria/install.log" 2>&1 || {
  echo "with-test-servers: mariadb-install-db failed:" >&2
  cat "$work/maria/install.log" >&2
  exit 1
}
mariadb_password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
for attempt in 1 2 3 4 5; do
  mariadb_port=$(free_port)
  /usr/sbin/mariadbd --no-defaults "${as_mariadb[@]}" --datadir="$work/maria/data" \
    --socket="$work/maria/socket" --port="$mariadb_port" --bind-address=127.0.0.1 \
    --skip-name-resolve --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=128M \
    --max-connections=200 > "$work/maria/mariadb.log" 2>&1 &
  mariadb_pid=$!
  ready=0
  for _ in $(seq 1 150); do
    if ! kill -0 "$mariadb_pid" 2>/dev/null; then break; fi
    if mariadb-admin --no-defaults --socket="$work/maria/socket" -uroot ping > /dev/null 2>&1; then
      ready=1; break
    fi
    sleep 0.1
  done
  [ $ready -eq 1 ] && break
  kill -KILL "$mariadb_pid" 2>/dev/null || true
  wait "$mariadb_pid" 2>/dev/null || true
  mariadb_pid=
  if [ $attempt -eq 5 ] || ! grep -q -i "bind" "$work/maria/mariadb.log"; then
    echo "with-test-servers: MariaDB did not start:" >&2
    cat "$work/maria/mariadb.log" >&2
    exit 1
  fi
done
mariadb --no-defaults --socket="$work/maria/socket" -uroot <<SQL
CREATE DATABASE basin_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'basin'@'127.0.0.1' IDENTIFIED BY '$mariadb_password';
GRANT ALL PRIVILEGES ON *.* TO 'basin'@'127.0.0.1' WITH GRANT OPTION;
SQL
export BASIN_TEST_MARIADB_HOST=127.0.0.1
export BASIN_TEST_MARIADB_PORT=$mariadb_port
export BASIN_TEST_MARIADB_USER=basin
export BASIN_TEST_MARIADB_PASSWORD=$mariadb_password
export BASIN_TEST_MARIADB_DATABASE=basin_test
echo "with-test-servers: MariaDB at 127.0.0.1:$mariadb_port (database basin_test)" >&2

"$@"
