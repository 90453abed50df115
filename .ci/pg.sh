#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on a Unix socket in a temporary directory.
#
#   url=$(bash .ci/pg.sh start DIR)   # initdb into DIR, start, create the database, print its URL
#   bash .ci/pg.sh stop DIR           # stop the cluster and remove DIR
#
# PostgreSQL refuses to run as root, so under root (CI) the server runs as the postgres user the
# Debian package creates, or nobody. The cluster trusts local connections: it listens on no TCP
# port, only on a socket inside DIR.
set -euo pipefail

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg.sh: no PostgreSQL server binaries under /usr/lib/postgresql (set PG_BINDIR)" >&2
  exit 1
fi

cmd=${1:?usage: pg.sh start|stop DIR}
dir=${2:?usage: pg.sh start|stop DIR}
db=klarna_mock_test
user=klarna

# as runs a command as the cluster's owner: the caller, or a non-root user when the caller is root.
as() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
    return
  fi
  local owner=postgres
  id -u "$owner" >/dev/null 2>&1 || owner=nobody
  runuser -u "$owner" -- "$@"
}

case "$cmd" in
start)
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    id -u "$owner" >/dev/null 2>&1 || owner=nobody
    chown "$owner" "$dir"
  fi
  as "$bindir/initdb" -D "$dir/data" -U "$user" --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  # fsync off and a small footprint: the data is thrown away at the end of the run.
  as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
    -o "-k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
  as "$bindir/createdb" -h "$dir" -U "$user" "$db"
  echo "postgres://$user@/$db?host=$dir"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as "$bindir/pg_ctl" -D "$dir/data" -m fast -w -s stop >&2 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pg.sh start|stop DIR" >&2
  exit 2
  ;;
esac
