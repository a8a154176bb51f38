#!/usr/bin/env bash
# Runs a private PostgreSQL server for ContentMax in the foreground.
#   run-postgres.sh DATA_DIR PORT PASSWORD_FILE
# Creates the cluster on first use (fsync stays on). Postgres refuses to run as
# root, so as root it runs as the 'postgres' OS user. SIGTERM from the
# orchestrator becomes a fast shutdown (SIGINT): a "smart" one would wait for
# every connected service to hang up.
set -euo pipefail
datadir=$1 port=$2 pwfile=$3

bindir=/usr/lib/postgresql/15/bin
[ -x "$bindir/postgres" ] || bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

as_postgres=()
if [ "$(id -u)" -eq 0 ]; then
  as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi

if [ ! -s "$datadir/PG_VERSION" ]; then
  mkdir -p "$datadir"
  chmod 700 "$datadir"
  tmp_pw=$(mktemp)
  cp "$pwfile" "$tmp_pw"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$datadir" "$tmp_pw"; fi
  "${as_postgres[@]}" "$bindir/initdb" -D "$datadir" -U postgres --pwfile="$tmp_pw" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$tmp_pw"
fi

# max_wal_size: at ingestion rates the default (1 GB) forces a checkpoint
# every ~20 s, and each one makes the next writes log full pages again.
"${as_postgres[@]}" "$bindir/postgres" -D "$datadir" -p "$port" \
  -c listen_addresses=127.0.0.1 -c unix_socket_directories="$datadir" \
  -c max_connections=200 -c shared_buffers=256MB -c fsync=on \
  -c max_wal_size=4GB -c checkpoint_timeout=10min &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null' TERM INT
wait "$pid" || true
wait "$pid" 2>/dev/null || true
