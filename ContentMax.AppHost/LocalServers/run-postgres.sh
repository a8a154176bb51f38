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

# As root the server runs as 'postgres', which must be able to reach its data.
# Below a private folder (a clone in /root, mode 0700) it cannot: the data then
# lives under /var/lib/contentmax, in a folder named for this data directory,
# and DATA_DIR becomes a link to it, so the next run finds it again.
if [ "$(id -u)" -eq 0 ] && [ ! -L "$datadir" ]; then
  mkdir -p "$(dirname "$datadir")"
  if ! "${as_postgres[@]}" test -x "$(dirname "$datadir")"; then
    folder=/var/lib/contentmax/$(printf %s "$(realpath -m "$datadir")" | sha256sum | cut -c1-16)
    # A folder there already was made for an earlier data directory at this
    # path, removed since (with the password its cluster was made with, as a
    # deleted clone takes its secrets): this new one gets a folder of its own.
    if [ -e "$folder" ]; then folder=$(mktemp -d "$folder.XXXXXX"); fi
    reachable=$folder/postgres
    echo "The postgres user cannot reach $(dirname "$datadir") (a folder above it is private)," \
      "so PostgreSQL keeps its data in $reachable; $datadir links to it." >&2
    mkdir -p "$reachable"
    chmod 755 /var/lib/contentmax "$(dirname "$reachable")"
    if [ -d "$datadir" ]; then
      if [ -n "$(ls -A "$datadir")" ]; then
        echo "$datadir holds files the postgres user cannot reach; move them away, or set Infrastructure:DataDirectory to a folder outside $(dirname "$datadir")." >&2
        exit 1
      fi
      rmdir "$datadir"
    fi
    ln -sfn "$reachable" "$datadir"
  fi
fi
if [ -L "$datadir" ]; then datadir=$(readlink -f "$datadir"); fi

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
# SIGINT is PostgreSQL's fast shutdown.
source "$(dirname "$0")/lib.sh"
STOP_SIGNAL=INT run_owned "${as_postgres[@]}" "$bindir/postgres" -D "$datadir" -p "$port" \
  -c listen_addresses=127.0.0.1 -c unix_socket_directories="$datadir" \
  -c max_connections=200 -c shared_buffers=256MB -c fsync=on \
  -c max_wal_size=4GB -c checkpoint_timeout=10min || true
